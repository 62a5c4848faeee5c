"""Delivery over real SMTP (aiosmtpd on 127.0.0.1): links, retries, failures, re-checks."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import utcnow
from survey.messaging.email import MailSettings
from survey.scheduler import run_pass
from survey.services import invitations, outbox
from survey.services.tokens import find_invitation
from tests.scheduling.conftest import OPENS, SmtpServer, Staged, make_study, smtp_config

DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)
LINK = re.compile(r"http://localhost/r/([A-Za-z0-9_-]+)\s")


def body_text(message: Any) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def queue_invites(db: Session, staged: Staged, settings: MailSettings, now: dt.datetime = OPENS) -> None:
    invitations.materialise(db, now - DAY)
    staged(invitations.open_due, settings, now)


def messages(db: Session) -> list[m.OutboxMessage]:
    db.expire_all()
    return list(db.scalars(select(m.OutboxMessage).order_by(m.OutboxMessage.id)))


def test_invitations_arrive_by_smtp_and_the_link_opens_the_survey(
    db: Session, make_app: Callable[..., Flask], smtp_server: SmtpServer
) -> None:
    app = make_app(**smtp_config(smtp_server))
    # The survey pages check the window against the real clock, so this study opens today
    # and may send at any hour.
    now = utcnow()
    _study, people = make_study(3, anchor=now.astimezone(ZoneInfo("Europe/London")).date(),
                                send_hour_start=0, send_hour_end=24, send_weekdays_only=False)
    db.commit()
    report = run_pass(app, now)
    assert (report.materialised, report.opened, report.delivery.sent) == (3, 3, 3), report
    assert sorted(msg["To"] for msg in smtp_server.messages) == sorted(
        p.contact.email for p in people
    )
    message = smtp_server.handler.to(people[0].contact.email)[0]
    assert message["From"] == "PeerPulse study team <study@peerpulse.test>"
    assert message.get_body(preferencelist=("html",)) is not None
    token = LINK.search(body_text(message))
    assert token is not None
    assert f"/r/{token.group(1)}/withdraw" in body_text(message)
    invitation = find_invitation(db, token.group(1))
    assert invitation is not None and invitation.participant_id == people[0].id
    # Follow the link in the received email to the survey.
    # (The respondent pages answer /r/<token> with a redirect to the consent page.)
    response = app.test_client().get(f"/r/{token.group(1)}", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path.startswith(f"/r/{token.group(1)}")
    # Nothing more to do: a second pass sends nothing; the outbox no longer keeps the link.
    again = run_pass(app, now + MINUTE)
    assert (again.opened, again.delivery.sent) == (0, 0)
    assert len(smtp_server.messages) == 3
    assert all(msg.status == m.OutboxStatus.SENT and msg.body_text == "" for msg in messages(db))


def test_server_down_then_back_delivers_each_message_once(
    db: Session, staged: Staged, make_app: Callable[..., Flask], stopped_smtp_server: SmtpServer
) -> None:
    app = make_app(**smtp_config(stopped_smtp_server))
    settings = MailSettings.from_config(app.config)
    _study, people = make_study(3)
    db.commit()
    queue_invites(db, staged, settings)
    down = staged(outbox.deliver, settings, OPENS)
    assert (down.sent, down.retrying) == (0, 3)
    assert "cannot connect" in down.errors[0]
    for msg in messages(db):
        assert (msg.status, msg.attempts) == (m.OutboxStatus.PENDING, 1)
        assert msg.next_attempt_at == OPENS + MINUTE
        assert msg.claimed_by is None
    # Still down at the second attempt: the wait doubles.
    assert staged(outbox.deliver, settings, OPENS + MINUTE).retrying == 3
    assert {msg.next_attempt_at for msg in messages(db)} == {OPENS + 3 * MINUTE}
    stopped_smtp_server.start()
    # Back up, but the backoff has not run out: nothing is tried yet.
    assert staged(outbox.deliver, settings, OPENS + 2 * MINUTE).sent == 0
    assert stopped_smtp_server.messages == []
    up = staged(outbox.deliver, settings, OPENS + 3 * MINUTE)
    assert up.sent == 3
    for later in (4, 60, 600):
        assert staged(outbox.deliver, settings, OPENS + later * MINUTE).sent == 0
    assert sorted(msg["To"] for msg in stopped_smtp_server.messages) == sorted(
        p.contact.email for p in people
    )
    assert [(msg.status, msg.attempts) for msg in messages(db)] == [(m.OutboxStatus.SENT, 3)] * 3


def test_temporary_refusal_is_retried_and_permanent_refusal_marked_failed(
    db: Session, staged: Staged, make_app: Callable[..., Flask], smtp_server: SmtpServer
) -> None:
    app = make_app(**smtp_config(smtp_server))
    settings = MailSettings.from_config(app.config)
    _study, people = make_study(3)
    db.commit()
    queue_invites(db, staged, settings)
    smtp_server.handler.temporary_failures = 1
    smtp_server.handler.refuse.add(people[2].contact.email)
    first = staged(outbox.deliver, settings, OPENS)
    assert (first.sent, first.retrying, first.failed) == (1, 1, 1)
    by_status = {msg.status: msg for msg in messages(db)}
    assert "451" in (by_status[m.OutboxStatus.PENDING].last_error or "")
    failed = by_status[m.OutboxStatus.FAILED]
    assert "550" in (failed.last_error or "") and failed.recipient == people[2].contact.email
    second = staged(outbox.deliver, settings, OPENS + MINUTE)
    assert (second.sent, second.failed) == (1, 0)
    assert len(smtp_server.messages) == 2
    assert outbox.status_counts(db) == {"pending": 0, "sent": 2, "failed": 1, "cancelled": 0}


def test_gives_up_after_the_maximum_number_of_attempts(
    db: Session, staged: Staged, make_app: Callable[..., Flask], stopped_smtp_server: SmtpServer
) -> None:
    app = make_app(**smtp_config(stopped_smtp_server))
    settings = MailSettings.from_config(app.config)
    make_study(1)
    db.commit()
    queue_invites(db, staged, settings)
    now = OPENS
    for _ in range(3):
        staged(outbox.deliver, settings, now, max_attempts=3)
        now += DAY  # past any backoff, at 09:00 on a weekday
    [msg] = messages(db)
    assert (msg.status, msg.attempts) == (m.OutboxStatus.FAILED, 3)
    assert (msg.last_error or "").startswith("gave up after 3 attempts")


def test_recheck_before_sending_cancels_for_withdrawn_or_completed(
    db: Session, staged: Staged, make_app: Callable[..., Flask], smtp_server: SmtpServer
) -> None:
    app = make_app(**smtp_config(smtp_server))
    settings = MailSettings.from_config(app.config)
    _study, people = make_study(3)
    db.commit()
    queue_invites(db, staged, settings)
    people[0].status = m.ParticipantStatus.WITHDRAWN
    completed = db.scalars(
        select(m.Invitation).where(m.Invitation.participant_id == people[1].id)
    ).one()
    completed.status = m.InvitationStatus.COMPLETED
    db.commit()
    report = staged(outbox.deliver, settings, OPENS)
    assert (report.sent, report.cancelled) == (1, 2)
    assert [msg["To"] for msg in smtp_server.messages] == [people[2].contact.email]
    reasons = sorted(msg.last_error or "" for msg in messages(db)
                     if msg.status == m.OutboxStatus.CANCELLED)
    assert reasons == [f"participant {people[0].code} is no longer taking part",
                       "the invitation is completed"]


def test_paused_study_and_night_time_hold_mail_back(
    db: Session, staged: Staged, make_app: Callable[..., Flask], smtp_server: SmtpServer
) -> None:
    app = make_app(**smtp_config(smtp_server))
    settings = MailSettings.from_config(app.config)
    study, _people = make_study(1)
    db.commit()
    queue_invites(db, staged, settings)
    study.status = m.StudyStatus.PAUSED
    db.commit()
    assert staged(outbox.deliver, settings, OPENS).sent == 0
    study.status = m.StudyStatus.ACTIVE
    db.commit()
    evening = OPENS + dt.timedelta(hours=11)  # 20:00 London
    assert staged(outbox.deliver, settings, evening).deferred == 1
    [msg] = messages(db)
    assert msg.next_attempt_at == OPENS + DAY  # 09:00 the next morning
    assert staged(outbox.deliver, settings, evening + dt.timedelta(hours=1)).sent == 0
    assert staged(outbox.deliver, settings, OPENS + DAY).sent == 1
    assert len(smtp_server.messages) == 1


def test_file_backend_writes_eml_files(db: Session, staged: Staged, app: Flask) -> None:
    settings = MailSettings.from_config(app.config)
    make_study(2)
    db.commit()
    queue_invites(db, staged, settings)
    assert staged(outbox.deliver, settings, OPENS).sent == 2
    files = sorted(Path(settings.file_dir).glob("*.eml"))
    assert len(files) == 2
    assert b"/r/" in files[0].read_bytes()
    assert not list(Path(settings.file_dir).glob(".*.tmp"))


def test_reminder_email_goes_out_and_no_reminder_after_completion(
    db: Session, make_app: Callable[..., Flask], smtp_server: SmtpServer
) -> None:
    app = make_app(**smtp_config(smtp_server))
    _study, people = make_study(2, reminders=[3])
    db.commit()
    run_pass(app, OPENS)
    done = db.scalars(select(m.Invitation).where(m.Invitation.participant_id == people[0].id)).one()
    done.status = m.InvitationStatus.COMPLETED
    db.commit()
    report = run_pass(app, OPENS + 3 * DAY)
    assert (report.reminded, report.delivery.sent) == (1, 1)
    reminder = smtp_server.messages[-1]
    assert reminder["To"] == people[1].contact.email
    assert reminder["Subject"].startswith("Reminder")
    token = LINK.search(body_text(reminder))
    assert token is not None
    assert find_invitation(db, token.group(1)).participant_id == people[1].id  # type: ignore[union-attr]


def test_non_ascii_names_survive_the_trip(
    db: Session, staged: Staged, make_app: Callable[..., Flask], smtp_server: SmtpServer
) -> None:
    app = make_app(**smtp_config(smtp_server) | {"MAIL_FROM": "Équipe PeerPulse <study@peerpulse.test>"})
    settings = MailSettings.from_config(app.config)
    _study, people = make_study(1, name="Étude des pairs – 2026")
    assert people[0].contact is not None
    people[0].contact.name = "Zoë Ní Bhriain"
    db.commit()
    queue_invites(db, staged, settings)
    assert staged(outbox.deliver, settings, OPENS).sent == 1
    [message] = smtp_server.messages
    assert message["Subject"].startswith("Étude des pairs – 2026: your 5 to 8 minute survey")
    assert message["From"] == "Équipe PeerPulse <study@peerpulse.test>"
    assert body_text(message).startswith("Dear Zoë Ní Bhriain,")
    assert message["Message-ID"].startswith("<invite.")
