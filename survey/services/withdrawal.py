"""Withdrawal: stop all further contact, and keep or delete the answers already given."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from sqlalchemy import CursorResult, ScalarSelect, delete, select, update
from sqlalchemy.orm import Session

from survey.db import utcnow
from survey.models import (
    Invitation,
    InvitationStatus,
    OutboxMessage,
    OutboxStatus,
    Participant,
    ParticipantStatus,
    Response,
)
from survey.services.audit import record_event

# Invitations that may still lead to mail or answers; completed ones are history.
OPEN_INVITATION_STATES = Invitation.UNFINISHED_STATES


@dataclass(frozen=True)
class ContactStopped:
    """What stopping contact changed."""

    invitations_cancelled: int
    messages_cancelled: int


@dataclass(frozen=True)
class Withdrawal:
    """What a withdrawal changed (counts only: never the content of answers)."""

    invitations_cancelled: int
    messages_cancelled: int
    responses_deleted: int


def _rowcount(result: object) -> int:
    """Rows touched by a bulk statement."""
    return cast(CursorResult[object], result).rowcount


def _invitation_ids(participant: Participant) -> ScalarSelect[int]:
    """A subquery of the participant's invitation ids."""
    query = select(Invitation.id).where(Invitation.participant_id == participant.id)
    return query.scalar_subquery()


def stop_contact(db: Session, participant: Participant) -> ContactStopped:
    """Cancel the participant's open invitations and their mail not yet sent."""
    invitations = _invitation_ids(participant)
    messages = db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.invitation_id.in_(invitations),
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    cancelled = db.execute(
        update(Invitation)
        .where(
            Invitation.participant_id == participant.id,
            Invitation.status.in_(OPEN_INVITATION_STATES),
        )
        .values(status=InvitationStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    return ContactStopped(_rowcount(cancelled), _rowcount(messages))


def withdraw(
    db: Session, participant: Participant, keep_data: bool, now: dt.datetime | None = None
) -> Withdrawal | None:
    """Withdraw a participant; None (nothing changed) if they had already withdrawn.

    Deleting removes every response of theirs with its answers and scale scores. The audit
    log records the decision and the counts, never the answers. The caller commits.
    """
    if participant.status == ParticipantStatus.WITHDRAWN:
        return None
    now = now or utcnow()
    participant.status = ParticipantStatus.WITHDRAWN
    participant.withdrawn_at = now
    participant.withdrawal_keep_data = keep_data
    stopped = stop_contact(db, participant)
    deleted = 0
    if not keep_data:
        # Answers and scale scores go with their response (ON DELETE CASCADE).
        deleted = _rowcount(
            db.execute(
                delete(Response)
                .where(Response.invitation_id.in_(_invitation_ids(participant)))
                .execution_options(synchronize_session=False)
            )
        )
    result = Withdrawal(stopped.invitations_cancelled, stopped.messages_cancelled, deleted)
    record_event(
        db, None, "participant_withdrew", "participant", participant.id,
        {
            "keep_data": keep_data,
            "responses_deleted": result.responses_deleted,
            "invitations_cancelled": result.invitations_cancelled,
            "messages_cancelled": result.messages_cancelled,
        },
        actor="participant",
    )
    db.flush()
    return result
