"""Delivery receipts: what the provider said later about a message it took (Notify's status
callback, a bounce), and contact details that failed for good.

- delivered: recorded.
- permanent-failure (a 5xx at sending, a bounce, Notify's permanent-failure): the message is
  failed and that contact is unreachable on that channel (Contact.email_failed_at or
  mobile_failed_at); the other channel is still used where there is one.
- temporary-failure (Notify's temporary- or technical-failure, a "delayed" or 4.x.x DSN): the
  message is queued again with a fresh link on the same channel, after a growing wait, up to
  RETRIES times.
A receipt only ever moves a message up the order temporary < delivered < permanent, so the
same receipt twice, or two in either order, leave the same final state. Every change is audited
(never with an address).

Who commits: the caller (every function here works in the session it is given).
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from survey.db import utcnow
from survey.messaging.email import MailSettings, redact_addresses
from survey.messaging.reach import channels_for
from survey.models import (
    Channel,
    Contact,
    Invitation,
    OutboxMessage,
    OutboxStatus,
    Participant,
    Receipt,
    User,
    Wave,
)
from survey.services.audit import record_event
from survey.services.invitations import OPEN_STATES, queue_messages

RETRIES = 3
RETRY_BASE = dt.timedelta(minutes=30)
_RETRY_SUFFIX = re.compile(r":retry(?P<n>[0-9]+)$")
# Notify's statuses (docs.notifications.service.gov.uk, "Delivery receipts"); None: in flight.
NOTIFY_STATUSES: dict[str, Receipt | None] = {
    "created": None, "sending": None, "pending": None, "sent": None,
    "delivered": Receipt.DELIVERED,
    "permanent-failure": Receipt.PERMANENT_FAILURE,
    "temporary-failure": Receipt.TEMPORARY_FAILURE,
    "technical-failure": Receipt.TEMPORARY_FAILURE,
}


def message_key(dedupe_key: str, message_id: int, created_at: dt.datetime) -> str:
    """The reference a message carries to its provider (Message-ID, Notify's reference)."""
    return f"{dedupe_key}.{message_id}.{created_at:%Y%m%d%H%M%S%f}"


def message_for_reference(db: Session, reference: str) -> OutboxMessage | None:
    """The outbox message whose message_key is `reference`, or None (never guessed from a part)."""
    parts = reference.rsplit(".", 2)
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 18:
        return None
    message = db.get(OutboxMessage, int(parts[1]), with_for_update=True)
    if message is None or message_key(message.dedupe_key, message.id, message.created_at) != reference:
        return None
    return message


def retry_delay(retries: int) -> dt.timedelta:
    """The wait before the n-th resend after a temporary failure: 30 min, 2 h, 8 h."""
    return RETRY_BASE * 4 ** max(retries - 1, 0)


def mark_unreachable(
    db: Session, participant_id: int, channel: Channel, now: dt.datetime, *, source: str,
    detail: str, message_id: int | None = None,
) -> bool:
    """Record that this participant's email (or mobile) failed for good (audited); False if
    it was already marked or there is no contact."""
    failed_at = Contact.mobile_failed_at if channel == Channel.SMS else Contact.email_failed_at
    result = db.execute(
        update(Contact)
        .where(Contact.participant_id == participant_id, failed_at.is_(None))
        .values({failed_at: now})
        .execution_options(synchronize_session="fetch")
    )
    if not getattr(result, "rowcount", 0):
        return False
    code = db.scalar(select(Participant.code).where(Participant.id == participant_id))
    record_event(db, None, "contact.unreachable", "participant", code,
                 {"channel": channel.value, "source": source, "message": message_id,
                  "detail": redact_addresses(detail)[:500]})
    return True


def record_receipt(
    db: Session, message: OutboxMessage, receipt: Receipt, detail: str, settings: MailSettings,
    *, source: str, now: dt.datetime | None = None,
) -> bool:
    """Apply one receipt to a message; False when it changes nothing (a duplicate, a late one,
    or a message never handed over)."""
    now = now or utcnow()
    if message.sent_at is None or (message.receipt is not None
                                   and receipt.rank <= message.receipt.rank):
        return False
    detail = redact_addresses(detail)[:2000]
    message.receipt, message.receipt_at, message.receipt_detail = receipt, now, detail
    channel = Channel(message.channel)
    record_event(db, None, "outbox.receipt", "outbox_message", message.id,
                 {"receipt": receipt.value, "channel": channel.value, "source": source,
                  "detail": detail[:500]})
    if receipt != Receipt.TEMPORARY_FAILURE:
        _cancel_retry(db, message, receipt)
    if receipt == Receipt.PERMANENT_FAILURE:
        message.status = OutboxStatus.FAILED
        message.last_error = f"{source}: {detail}"[:2000]
        invitation = db.get(Invitation, message.invitation_id) if message.invitation_id else None
        if invitation is not None:
            mark_unreachable(db, invitation.participant_id, channel, now, source=source,
                             detail=detail, message_id=message.id)
    elif receipt == Receipt.TEMPORARY_FAILURE:
        _queue_retry(db, message, settings, now)
    return True


def _base_key(message: OutboxMessage) -> tuple[str, int]:
    """The email's dedupe key this message descends from, and how many resends it is."""
    key = message.dedupe_key.removeprefix("sms:")
    match = _RETRY_SUFFIX.search(key)
    if match is None:
        return key, 0
    return key[: match.start()], int(match["n"])


def _retry_key(message: OutboxMessage, n: int) -> str:
    base, _ = _base_key(message)
    prefix = "sms:" if message.channel == Channel.SMS.value else ""
    return f"{prefix}{base}:retry{n}"


def _cancel_retry(db: Session, message: OutboxMessage, receipt: Receipt) -> None:
    """A later receipt supersedes a temporary failure: its queued resend is not sent."""
    _, n = _base_key(message)
    db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.dedupe_key == _retry_key(message, n + 1),
               OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED, body_text="", body_html="",
                last_error=f"the message it retried was reported {receipt.value}")
        .execution_options(synchronize_session="fetch")
    )


def _queue_retry(db: Session, message: OutboxMessage, settings: MailSettings,
                 now: dt.datetime) -> None:
    """Queue the same invitation or reminder again on the same channel, after a wait."""
    base, n = _base_key(message)
    if n >= RETRIES:
        message.last_error = f"gave up after {n} resends: {message.receipt_detail}"[:2000]
        return
    invitation = None
    if message.invitation_id is not None:
        invitation = db.scalars(
            select(Invitation).where(Invitation.id == message.invitation_id).options(
                joinedload(Invitation.participant).joinedload(Participant.contact),
                joinedload(Invitation.wave).joinedload(Wave.study))
        ).first()
    if (invitation is None or invitation.status not in OPEN_STATES or invitation.closes_at <= now
            or invitation.participant.contact is None or not invitation.participant.is_active):
        message.last_error = "not resent: the invitation is no longer open"
        return
    exists = db.scalar(select(OutboxMessage.id).where(
        OutboxMessage.dedupe_key == _retry_key(message, n + 1)))
    if exists is None:
        queue_messages(db, settings, invitation, message.kind, f"{base}:retry{n + 1}", now,
                       send_at=now + retry_delay(n + 1), only=Channel(message.channel))


def record_bounce(
    db: Session, message_id: int, receipt: Receipt, detail: str, settings: MailSettings,
    now: dt.datetime | None = None,
) -> bool | None:
    """Apply a bounce's outcome to the email it names; None if there is no such email."""
    message = db.get(OutboxMessage, message_id, with_for_update=True)
    if message is None or message.channel != Channel.EMAIL.value:
        return None
    return record_receipt(db, message, receipt, detail, settings, source="bounce", now=now)


def resend_after_fix(
    db: Session, settings: MailSettings, participant: Participant, user: User | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Send again, once, each open invitation or reminder that failed for good on a channel
    that works again (an admin fixed the address); how many were queued (audited).

    Each resend's key names the message it replaces ("resend:<id>"), so asking twice, or two
    admins at once, queues it once. Nothing is resent when a later message of the same
    invitation on that channel has gone or is going anyway.
    """
    now = now or utcnow()
    contact = participant.contact
    if contact is None or not participant.is_active:
        return 0
    working = channels_for(contact, participant)
    failed = db.scalars(
        select(OutboxMessage).join(Invitation, Invitation.id == OutboxMessage.invitation_id)
        .where(Invitation.participant_id == participant.id, Invitation.is_open,
               Invitation.closes_at > now, OutboxMessage.status == OutboxStatus.FAILED,
               OutboxMessage.receipt == Receipt.PERMANENT_FAILURE)
        .order_by(OutboxMessage.id)
    ).all()
    queued = 0
    for message in failed:
        medium = Channel(message.channel)
        key = f"resend:{message.id}"
        superseded = db.scalar(select(OutboxMessage.id).where(
            OutboxMessage.invitation_id == message.invitation_id,
            OutboxMessage.channel == message.channel, OutboxMessage.id > message.id,
            OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENT))).limit(1))
        already = db.scalar(select(OutboxMessage.id).where(
            OutboxMessage.dedupe_key.in_((key, f"{medium.value}:{key}"))))
        if medium not in working or superseded is not None or already is not None:
            continue
        invitation = db.get(Invitation, message.invitation_id)
        assert invitation is not None  # joined above
        queue_messages(db, settings, invitation, message.kind, key, now, only=medium)
        record_event(db, user, "outbox.resend", "participant", participant.code,
                     {"message": message.id, "channel": medium.value, "kind": message.kind})
        queued += 1
    return queued


def receipt_counts(db: Session) -> dict[str, int]:
    """How many sent messages have each receipt, and how many contacts failed by channel."""
    counts = {receipt.value: 0 for receipt in Receipt}
    for receipt, count in db.execute(
        select(OutboxMessage.receipt, func.count()).where(OutboxMessage.receipt.is_not(None))
        .group_by(OutboxMessage.receipt)
    ):
        counts[str(receipt)] = count
    counts["email unreachable"] = db.scalar(
        select(func.count()).where(Contact.email_failed_at.is_not(None))) or 0
    counts["mobile unreachable"] = db.scalar(
        select(func.count()).where(Contact.mobile_failed_at.is_not(None))) or 0
    return counts


def latest_receipts(db: Session, limit: int = 100) -> list[OutboxMessage]:
    """The messages with the latest receipts, newest first (for the outbox page)."""
    return list(db.scalars(
        select(OutboxMessage).where(OutboxMessage.receipt.is_not(None))
        .order_by(OutboxMessage.receipt_at.desc(), OutboxMessage.id.desc()).limit(limit)
    ))
