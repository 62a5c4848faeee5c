"""Remind me later: from their link a respondent chooses when their next reminder comes; the
scheduler sends it once, within the sending hours, and not the scheduled ones before it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import utcnow
from survey.scheduler import PassReport, run_pass
from survey.services import enrolment, reminders, schedule
from survey.services.errors import InputError
from tests import factories as f
from tests.scheduling.conftest import SmtpServer, smtp_config

LONDON = ZoneInfo("Europe/London")
LINK = re.compile(r"http://localhost/r/([A-Za-z0-9_-]+)\s")
FORM = "application/x-www-form-urlencoded"
DAY = dt.timedelta(days=1)


def enrol(db: Session) -> m.Invitation:
    """Jo, email only, in a wave that opens today (the pages check the real clock)."""
    study = f.StudyFactory(code="pulse")
    f.TeamFactory(code="NORTH")
    f.WaveFactory(study=study, index=1, offset_days=0, window_days=21, reminder_offsets=[3])
    db.flush()
    enrolment.import_csv(db, study, "external_id,email,name,role,team_code,anchor_date\n"
                         f"E1,jo@example.nhs.uk,Jo,manager,NORTH,{utcnow().date()}\n")
    db.commit()
    return study


def run(app: Flask, db: Session, now: dt.datetime) -> PassReport:
    db.commit()
    report = run_pass(app, now)
    db.expire_all()
    return report


def invitation(db: Session) -> m.Invitation:
    db.rollback()  # a fresh read of what the app and the scheduler committed
    return db.scalars(select(m.Invitation)).one()


def invite(app: Flask, db: Session, server: SmtpServer) -> tuple[str, dt.datetime]:
    """Open the invitation and deliver its email (in the sending hours); its token and when."""
    run(app, db, utcnow())  # materialise (and open, if the window has begun)
    rules = schedule.SendingRules(LONDON, 9, 17, True)
    at = schedule.next_allowed(rules, max(invitation(db).opens_at, utcnow()))
    run(app, db, at)
    assert len(server.messages) == 1
    token = LINK.search(server.messages[0].get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert token is not None
    return token.group(1), invitation(db).opens_at


def reminders_to(server: SmtpServer) -> list[str]:
    return [str(msg["Subject"]) for msg in server.messages if "Reminder" in str(msg["Subject"])]


def test_remind_me_later_sends_one_reminder_then_and_none_before(
    db: Session, make_app: Callable[..., Flask], smtp_server: SmtpServer
) -> None:
    app = make_app(**smtp_config(smtp_server))
    enrol(db)
    token, opens = invite(app, db, smtp_server)
    later = f"/r/{token}/later"
    client = app.test_client()

    page = client.get(later)
    assert page.status_code == 200 and b"When should we remind you?" in page.data
    assert b">16:00<" in page.data and b">17:00<" not in page.data and b">08:00<" not in page.data
    assert b"between 09:00 and 17:00" in page.data
    # Bad input: nothing chosen is the person's omission (a clear error), a day or an hour not
    # offered is tampering; neither writes anything.
    missing = client.post(later, data="", content_type=FORM)
    assert missing.status_code == 400 and b"Choose when we should remind you." in missing.data
    assert client.post(later, data="days=2", content_type=FORM).status_code == 400
    assert client.post(later, data="days=7&hour=3", content_type=FORM).status_code == 400
    assert invitation(db).remind_at is None

    done = client.post(later, data="days=7&hour=14", content_type=FORM)
    assert done.status_code == 200 and b"we will send you one reminder on" in done.data
    asked = invitation(db).remind_at
    assert asked is not None
    local = asked.astimezone(LONDON)
    rules = schedule.SendingRules(LONDON, 9, 17, True)
    assert schedule.is_allowed(rules, asked) and local.date() >= utcnow().date() + 7 * DAY
    assert (local.hour, local.minute) == (14, 0) or local.hour == 9  # a weekend moves it on
    events = db.scalars(select(m.AuditEvent).where(
        m.AuditEvent.action == "invitation.remind_later")).all()
    assert [e.detail["days"] for e in events] == [7]

    # The scheduled reminder (day 3) is not sent: the person asked for a later one.
    assert run(app, db, opens + 3 * DAY + dt.timedelta(hours=1)).reminded == 0
    assert run(app, db, asked - dt.timedelta(minutes=1)).reminded == 0
    assert reminders_to(smtp_server) == []
    # At the chosen time: one reminder; a second pass (a second scheduler) sends nothing more.
    first = run(app, db, asked)
    assert (first.reminded, first.delivery.sent) == (1, 1)
    assert run(app, db, asked).reminded == 0
    assert len(reminders_to(smtp_server)) == 1
    after = invitation(db)
    assert after.remind_at is None and after.last_reminder_at == asked
    # The scheduled reminder it stood in for does not follow.
    assert run(app, db, asked + 2 * DAY).reminded == 0
    assert len(reminders_to(smtp_server)) == 1
    # The page now shows no pending request.
    assert b"one reminder on" not in client.get(later).data


def test_a_time_after_the_survey_closes_is_refused_and_nothing_is_written(
    db: Session, make_app: Callable[..., Flask], smtp_server: SmtpServer
) -> None:
    app = make_app(**smtp_config(smtp_server))
    enrol(db)
    token, _opens = invite(app, db, smtp_server)
    closes = invitation(db).closes_at
    with pytest.raises(InputError) as refused:
        reminders.later_for_link(db, token, days=7, now=closes - 2 * DAY)
    assert refused.value.by_field() == {
        "days": "The survey closes before then. Choose an earlier day."}
    db.rollback()
    assert invitation(db).remind_at is None
    assert reminders.later_for_link(db, "no-such-token-0000000000000000", days=1) is None
