"""The domain model: constraints that protect the data hold on every database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from survey import models as m
from tests import factories as f


def test_one_invitation_per_participant_and_wave(db: Session) -> None:
    inv = f.InvitationFactory()
    db.commit()
    db.add(
        m.Invitation(
            participant_id=inv.participant_id, wave_id=inv.wave_id,
            opens_at=inv.opens_at, closes_at=inv.closes_at,
        )
    )
    with pytest.raises(IntegrityError):
        db.commit()


def test_outbox_dedupe_key_is_unique(db: Session) -> None:
    for _ in range(2):
        db.add(m.OutboxMessage(dedupe_key="invite:1", kind="invite", recipient="a@example.org",
                               subject="s", body_text="b"))
    with pytest.raises(IntegrityError):
        db.commit()


def test_enum_is_stored_by_value_and_datetimes_come_back_aware(db: Session) -> None:
    p = f.ParticipantFactory(colleague=True)
    db.commit()
    raw = db.execute(select(m.Participant.__table__.c.role)).scalar_one()
    assert raw == "colleague"
    db.expire_all()
    created = db.scalars(select(m.Participant)).one().created_at
    assert created.tzinfo is not None
    assert abs(created - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert p.contact is not None and "@" in p.contact.email


def test_naive_datetime_is_refused(db: Session) -> None:
    inv = f.InvitationFactory()
    inv.opens_at = dt.datetime(2026, 1, 1, 9, 0)  # naive: ambiguous, refused
    with pytest.raises(Exception, match="naive datetime"):
        db.commit()


def test_erasing_a_participant_removes_contact_and_answers(db: Session) -> None:
    inv = f.InvitationFactory()
    response = m.Response(invitation=inv, instrument_id="peer_worker", instrument_version=1,
                          instrument_hash="x" * 64)
    response.answers.append(m.Answer(item_id="pw_id_1", value=4))
    response.scores.append(m.ScaleScore(scale="identity", score=4.0, items_answered=1))
    db.add(response)
    db.commit()
    participant = db.get(m.Participant, inv.participant_id)
    db.delete(participant)
    db.commit()
    for model in (m.Contact, m.Invitation, m.Response, m.Answer, m.ScaleScore):
        assert db.scalars(select(model)).all() == [], model.__name__
