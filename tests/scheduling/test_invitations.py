"""Invitations: materialise, open with the email in the outbox, remind, expire."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.messaging.email import MailSettings
from survey.services import invitations
from survey.services.tokens import find_invitation
from tests import factories as f
from tests.scheduling.conftest import OPENS, Staged, make_study

SETTINGS = MailSettings(base_url="https://peerpulse.example")
DAY = dt.timedelta(days=1)
LINK = re.compile(r"https://peerpulse\.example/r/([A-Za-z0-9_-]+)(?=\s)")


def outbox(db: Session) -> list[m.OutboxMessage]:
    return list(db.scalars(select(m.OutboxMessage).order_by(m.OutboxMessage.id)))


def count(db: Session, model: type[m.Invitation] | type[m.LinkToken]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_materialise_one_invitation_per_participant_and_wave_idempotently(db: Session) -> None:
    study, people = make_study(3, waves=2)
    f.ParticipantFactory(study=study, withdrawn=True)
    db.commit()
    assert invitations.materialise(db, OPENS - DAY) == 6
    assert invitations.materialise(db, OPENS - DAY) == 0
    rows = db.scalars(select(m.Invitation)).all()
    assert {(i.participant_id, i.wave.index) for i in rows} == {
        (p.id, w) for p in people for w in (1, 2)
    }
    assert all(i.status == m.InvitationStatus.SCHEDULED for i in rows)
    wave2 = next(i for i in rows if i.wave.index == 2)
    assert wave2.opens_at == dt.datetime(2026, 4, 6, 8, tzinfo=dt.UTC)  # 09:00 BST
    # A participant enrolled later is picked up by the next run.
    f.ParticipantFactory(study=study, anchor_date=dt.date(2026, 1, 6))
    db.commit()
    assert invitations.materialise(db, OPENS) == 2


def test_open_due_queues_one_email_with_a_working_link(db: Session, staged: Staged) -> None:
    study, _people = make_study(2)
    db.commit()
    invitations.materialise(db, OPENS - DAY)
    assert staged(invitations.open_due, SETTINGS, OPENS - dt.timedelta(minutes=1)) == 0
    assert staged(invitations.open_due, SETTINGS, OPENS) == 2
    assert staged(invitations.open_due, SETTINGS, OPENS + dt.timedelta(hours=1)) == 0
    messages = outbox(db)
    assert [msg.dedupe_key for msg in messages] == [
        f"invite:{i.id}" for i in db.scalars(select(m.Invitation).order_by(m.Invitation.id))
    ]
    for msg in messages:
        invitation = db.get(m.Invitation, msg.invitation_id)
        assert invitation is not None
        assert invitation.status == m.InvitationStatus.SENT
        assert invitation.sent_at == OPENS
        token = LINK.search(msg.body_text)
        assert token is not None, msg.body_text
        assert find_invitation(db, token.group(1)) == invitation
        assert f"/r/{token.group(1)}/withdraw" in msg.body_text
        assert f'href="https://peerpulse.example/r/{token.group(1)}"' in msg.body_html
        assert msg.recipient == invitation.participant.contact.email
        assert invitation.participant.team.name not in msg.subject
        assert "5 to 8 minutes" in msg.body_text and "voluntary" in msg.body_text
        assert study.name in msg.body_text


def test_paused_studies_withdrawn_and_declined_people_get_nothing(db: Session, staged: Staged) -> None:
    paused, _ = make_study(2, paused=True)
    _active, people = make_study(3)
    people[0].status = m.ParticipantStatus.WITHDRAWN
    people[1].consent_decision = m.ConsentDecision.DECLINED
    db.commit()
    invitations.materialise(db, OPENS - DAY)
    assert staged(invitations.open_due, SETTINGS, OPENS) == 1
    assert [msg.recipient for msg in outbox(db)] == [people[2].contact.email]
    paused.status = m.StudyStatus.ACTIVE  # resumed: its invitations go out now
    db.commit()
    assert staged(invitations.open_due, SETTINGS, OPENS + dt.timedelta(hours=2)) == 2


def reminder_keys(db: Session) -> list[str]:
    return [msg.dedupe_key for msg in outbox(db) if msg.kind == "remind"]


def test_reminders_at_most_configured_none_after_completion(db: Session, staged: Staged) -> None:
    _study, _people = make_study(2, reminders=[3, 7])
    db.commit()
    invitations.materialise(db, OPENS - DAY)
    staged(invitations.open_due, SETTINGS, OPENS)
    first, second = db.scalars(select(m.Invitation).order_by(m.Invitation.id)).all()
    old_token = LINK.search(outbox(db)[0].body_text)
    assert old_token is not None
    assert staged(invitations.queue_reminders, SETTINGS, OPENS + 2 * DAY) == 0
    # Day 3 (Thursday 09:00): one reminder each; running again changes nothing.
    assert staged(invitations.queue_reminders, SETTINGS, OPENS + 3 * DAY) == 2
    assert staged(invitations.queue_reminders, SETTINGS, OPENS + 3 * DAY + dt.timedelta(hours=2)) == 0
    # The first person completes: no more reminders for them.
    first.status = m.InvitationStatus.COMPLETED
    db.commit()
    assert staged(invitations.queue_reminders, SETTINGS, OPENS + 7 * DAY) == 1
    assert staged(invitations.queue_reminders, SETTINGS, OPENS + 14 * DAY) == 0  # only two configured
    assert sorted(reminder_keys(db)) == sorted(
        [f"remind:{first.id}:1", f"remind:{second.id}:1", f"remind:{second.id}:2"]
    )
    db.refresh(second)
    assert second.reminders_sent == 2
    assert second.last_reminder_at == OPENS + 7 * DAY
    # Each reminder has its own fresh link; the invitation's first link still works.
    assert count(db, m.LinkToken) == 5
    assert find_invitation(db, old_token.group(1)) is not None


def test_catch_up_sends_only_the_latest_reminder(db: Session, staged: Staged) -> None:
    make_study(1, reminders=[3, 7])
    db.commit()
    invitations.materialise(db, OPENS - DAY)
    staged(invitations.open_due, SETTINGS, OPENS)
    # The scheduler was stopped for a week: both reminders are due, one email goes.
    assert staged(invitations.queue_reminders, SETTINGS, OPENS + 8 * DAY) == 1
    [key] = reminder_keys(db)
    assert key.endswith(":2")
    assert staged(invitations.queue_reminders, SETTINGS, OPENS + 9 * DAY) == 0


def test_expire_closes_windows_and_stops_reminders(db: Session, staged: Staged) -> None:
    _study, _people = make_study(2, reminders=[3, 30])
    db.commit()
    invitations.materialise(db, OPENS - DAY)
    staged(invitations.open_due, SETTINGS, OPENS)
    closes = db.scalars(select(m.Invitation)).first().closes_at  # type: ignore[union-attr]
    assert invitations.expire(db, closes - dt.timedelta(seconds=1)) == 0
    assert invitations.expire(db, closes) == 2
    assert {i.status for i in db.scalars(select(m.Invitation))} == {m.InvitationStatus.EXPIRED}
    assert staged(invitations.queue_reminders, SETTINGS, closes + DAY) == 0
    assert staged(invitations.open_due, SETTINGS, closes + DAY) == 0


def test_expire_cancels_scheduled_invitations_of_people_who_withdrew(db: Session) -> None:
    _study, people = make_study(1, waves=2)
    db.commit()
    invitations.materialise(db, OPENS - DAY)
    people[0].status = m.ParticipantStatus.WITHDRAWN
    db.commit()
    invitations.expire(db, OPENS)
    assert {i.status for i in db.scalars(select(m.Invitation))} == {m.InvitationStatus.CANCELLED}


def test_late_enrolment_waves_already_closed_are_expired_not_sent(db: Session, staged: Staged) -> None:
    make_study(1, waves=2)
    db.commit()
    later = OPENS + 60 * DAY  # wave 1 closed long ago, wave 2 not open yet
    invitations.materialise(db, later)
    assert staged(invitations.open_due, SETTINGS, later) == 0
    assert invitations.expire(db, later) == 1
    assert outbox(db) == []
