"""One participant's study, in order: enrolled, invited (by which channel), delivered, bounced,
started, pages saved, completed, reminders, opt-outs, withdrawal.

Pseudonymous: it names channels, never an address or number, and no answer. "Started" is the
first page saved through the personal link (no tracking pixels). Read-only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from survey.models import (
    AuditEvent,
    Invitation,
    OutboxMessage,
    OutboxStatus,
    Participant,
    Receipt,
    Response,
    Wave,
)

# Audited actions that belong on a participant's timeline, and how they read there.
AUDITED = {
    "participant_consent": "consent recorded",
    "participant.sms_opt_out": "opted out of texts",
    "participant.email_opt_out": "opted out of emails",
    "participant_withdrew": "withdrew",
    "invitation.remind_later": "asked to be reminded later",
    "outbox.resend": "sent again after an address was fixed",
    "contact.unreachable": "contact marked unreachable",
}
RECEIPTS = {
    Receipt.DELIVERED: "delivered",
    Receipt.TEMPORARY_FAILURE: "delivery delayed",
    Receipt.PERMANENT_FAILURE: "bounced / failed for good",
}


@dataclass(frozen=True)
class Moment:
    """One thing that happened, when, in which wave (if any), and a short detail."""

    at: dt.datetime
    what: str
    wave: str = ""
    detail: str = ""


def participant_timeline(db: Session, participant: Participant) -> list[Moment]:
    """Everything recorded about this participant's part in the study, oldest first."""
    moments = [Moment(participant.created_at, "enrolled")]
    invitations = db.execute(
        select(Invitation.id, Wave.label).join(Wave, Wave.id == Invitation.wave_id)
        .where(Invitation.participant_id == participant.id)
    ).all()
    labels = {row.id: row.label for row in invitations}
    for message in db.scalars(
        select(OutboxMessage).where(OutboxMessage.invitation_id.in_(list(labels)))
        .order_by(OutboxMessage.id)
    ):
        wave = labels.get(message.invitation_id or 0, "")
        what = "invited" if message.kind == "invite" else "reminded"
        if message.sent_at is not None:
            moments.append(Moment(message.sent_at, what, wave, f"by {message.channel}"))
        elif message.status == OutboxStatus.PENDING:
            moments.append(Moment(message.created_at, f"{what} (queued)", wave,
                                  f"by {message.channel}"))
        else:
            moments.append(Moment(message.created_at, f"{what}: not sent", wave,
                                  f"by {message.channel}, {message.status.value}"))
        if message.receipt is not None and message.receipt_at is not None:
            moments.append(Moment(message.receipt_at, RECEIPTS[message.receipt], wave,
                                  f"{message.channel} {message.kind}"))
    for response in db.scalars(
        select(Response).where(Response.invitation_id.in_(list(labels))).order_by(Response.id)
    ):
        wave = labels.get(response.invitation_id, "")
        moments.append(Moment(response.started_at, "started", wave, response.instrument_id))
        if response.pages_saved:
            moments.append(Moment(response.updated_at, "pages saved", wave,
                                  ", ".join(response.pages_saved)))
        if response.submitted_at is not None:
            moments.append(Moment(response.submitted_at, "completed", wave,
                                  response.instrument_id))
    for event in db.scalars(
        select(AuditEvent).where(
            AuditEvent.action.in_(list(AUDITED)),
            or_(and_(AuditEvent.target_type == "participant",
                     AuditEvent.target_id.in_([participant.code, str(participant.id)])),
                and_(AuditEvent.target_type == "invitation",
                     AuditEvent.target_id.in_([str(i) for i in labels]))))
        .order_by(AuditEvent.id)
    ):
        detail = event.detail or {}
        note = ", ".join(f"{key} {detail[key]}" for key in ("source", "channel", "days")
                         if key in detail)
        wave = labels.get(int(event.target_id), "") if event.target_type == "invitation" else ""
        moments.append(Moment(event.at, AUDITED[event.action], wave, note))
    return sorted(moments, key=lambda moment: moment.at)
