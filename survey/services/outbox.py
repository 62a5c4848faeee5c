"""Delivering the outbox: claim due messages with a lease, re-check, send, record the outcome.

At the SMTP boundary the guarantee is "at least once, and almost always exactly once": each
message is committed as sent right after the server accepts it, so only a crash in the
milliseconds between the server's 250 reply and that commit can hand the same message over
twice — and then only after its lease has run out, with the same Message-ID header, so the
copy can be recognised. Two workers never hold the same message: claims use
FOR UPDATE SKIP LOCKED on PostgreSQL and a guarded UPDATE on SQLite.

Who commits: delivery commits in stages (claim, then one outcome per message), so `deliver`
takes the session factory and opens a short transaction for each stage; `claim` and the
read-only `status_counts` take a session and leave committing to their caller.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from survey.db import utcnow
from survey.messaging.base import (
    ConnectionFailure,
    Envelope,
    MessageChannel,
    PermanentFailure,
    TemporaryFailure,
)
from survey.messaging.email import EmailChannel, MailSettings, Transport, redact_addresses
from survey.messaging.reach import delivery_channels
from survey.messaging.sms import SmsChannel, SmsSettings, SmsTransport
from survey.models import (
    Channel,
    Contact,
    Invitation,
    InvitationStatus,
    OutboxMessage,
    OutboxStatus,
    Participant,
    Receipt,
    Study,
    StudyStatus,
    Wave,
)
from survey.services import schedule
from survey.services.invitations import OPEN_STATES
from survey.services.receipts import mark_unreachable, message_key

BATCH_SIZE = 100
LEASE = dt.timedelta(minutes=5)
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(hours=6)
MAX_ATTEMPTS = 10


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try after `attempts` failures: 1, 2, 4 ... minutes, capped."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def _paused(message_table: Any = OutboxMessage) -> Any:
    """SQL: the message belongs to an invitation of a paused study."""
    return exists(
        select(Invitation.id)
        .join(Wave, Wave.id == Invitation.wave_id)
        .join(Study, Study.id == Wave.study_id)
        .where(Invitation.id == message_table.invitation_id, Study.status == StudyStatus.PAUSED)
    )


def claim(
    db: Session, now: dt.datetime, worker: str, *, lease: dt.timedelta = LEASE,
    batch_size: int = BATCH_SIZE, channel: Channel = Channel.EMAIL,
) -> list[int]:
    """Take a lease on up to batch_size due messages of one channel no one else holds.

    The caller commits. The candidates are a MATERIALIZED CTE: as `id IN (subquery)`,
    PostgreSQL may plan a nested-loop semi-join that evaluates the LIMITed, SKIP LOCKED
    subquery more than once and so claims more than one batch.
    """
    candidates = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.channel == channel.value,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
            (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until <= now),
            ~_paused(),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True, of=OutboxMessage.__table__)
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    ids = list(
        db.scalars(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(select(candidates.c.id)),
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(claimed_by=worker, claimed_until=now + lease)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        ).all()
    )
    return sorted(ids)


def _finish(sessions: sessionmaker[Session], message_id: int, worker: str, **values: Any) -> bool:
    """Record an outcome and release the lease, only if this worker still holds it; commits."""
    with sessions.begin() as db:
        result = db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
            .values(claimed_by=None, claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        )
    return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class _Claimed:
    """A claimed message and, read fresh in the same query, what deciding to send it needs."""

    id: int
    dedupe_key: str
    invitation_id: int | None
    recipient: str
    subject: str
    body_text: str
    body_html: str
    unsubscribe_url: str | None
    attempts: int
    created_at: dt.datetime
    invitation_status: InvitationStatus | None
    closes_at: dt.datetime | None
    participant_code: str | None
    participant_active: bool | None
    contact_email: str | None
    study_status: StudyStatus | None
    study_timezone: str | None
    send_hour_start: int | None
    send_hour_end: int | None
    send_weekdays_only: bool | None
    channel: str
    contact_mobile: str | None
    sms_opted_out_at: dt.datetime | None
    contact_channel: Channel | None
    participant_id: int | None
    email_failed_at: dt.datetime | None
    mobile_failed_at: dt.datetime | None
    email_opted_out_at: dt.datetime | None


_CLAIMED_COLUMNS = (
    OutboxMessage.id, OutboxMessage.dedupe_key, OutboxMessage.invitation_id,
    OutboxMessage.recipient, OutboxMessage.subject, OutboxMessage.body_text,
    OutboxMessage.body_html, OutboxMessage.unsubscribe_url, OutboxMessage.attempts, OutboxMessage.created_at,
    Invitation.status, Invitation.closes_at,
    Participant.code, Participant.is_active, Contact.email,
    Study.status, Study.timezone, Study.send_hour_start, Study.send_hour_end,
    Study.send_weekdays_only,
    OutboxMessage.channel, Contact.mobile, Participant.sms_opted_out_at, Contact.channel,
    Participant.id, Contact.email_failed_at, Contact.mobile_failed_at,
    Participant.email_opted_out_at,
)


def _load_claimed(db: Session, message_id: int, worker: str) -> _Claimed | None:
    """One query for the message this worker holds and the current state of its invitation."""
    row = db.execute(
        select(*_CLAIMED_COLUMNS)
        .outerjoin(Invitation, Invitation.id == OutboxMessage.invitation_id)
        .outerjoin(Participant, Participant.id == Invitation.participant_id)
        .outerjoin(Contact, Contact.participant_id == Participant.id)
        .outerjoin(Wave, Wave.id == Invitation.wave_id)
        .outerjoin(Study, Study.id == Wave.study_id)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker,
               OutboxMessage.status == OutboxStatus.PENDING)
    ).first()
    return None if row is None else _Claimed(*cast(tuple[Any, ...], row))


def _recheck(message: _Claimed, now: dt.datetime) -> tuple[str, str | dt.datetime]:
    """Just before sending: ("send", recipient), ("cancel", reason) or ("defer", until)."""
    if message.invitation_id is None:
        return "send", message.recipient
    if message.invitation_status is None:
        return "cancel", "the invitation no longer exists"
    if not message.participant_active:
        return "cancel", f"participant {message.participant_code} is no longer taking part"
    sms = message.channel == "sms"
    address = message.contact_mobile if sms else message.contact_email
    if address is None:
        return "cancel", f"participant {message.participant_code} has no contact details"
    if (message.mobile_failed_at if sms else message.email_failed_at) is not None:
        return "cancel", (f"participant {message.participant_code}'s "
                          f"{'mobile number' if sms else 'email address'} failed for good")
    if sms and message.sms_opted_out_at is not None:
        return "cancel", f"participant {message.participant_code} asked for no more texts"
    if not sms and message.email_opted_out_at is not None:
        return "cancel", f"participant {message.participant_code} asked for no more emails"
    assert message.contact_channel is not None  # the contact exists: it has an address
    if message.channel not in delivery_channels(
        None if message.email_failed_at else message.contact_email,
        None if message.mobile_failed_at else message.contact_mobile,
        message.contact_channel, message.sms_opted_out_at is not None,
        message.email_opted_out_at is not None,
    ):
        return "cancel", (f"participant {message.participant_code} no longer gets "
                          f"{'texts' if sms else 'emails'}")
    if message.invitation_status not in OPEN_STATES:
        return "cancel", f"the invitation is {message.invitation_status.value}"
    if message.closes_at is None or message.closes_at <= now:
        return "cancel", "the answer window has closed"
    if message.study_status != StudyStatus.ACTIVE:
        return "defer", now
    assert message.study_timezone is not None  # the invitation exists, so its study does
    rules = _rules(message.study_timezone, message.send_hour_start or 0,
                   message.send_hour_end or 24, bool(message.send_weekdays_only))
    if not schedule.is_allowed(rules, now):
        return "defer", schedule.next_allowed(rules, now)
    return "send", address


@functools.lru_cache(maxsize=64)
def _rules(zone: str, start: int, end: int, weekdays_only: bool) -> schedule.SendingRules:
    return schedule.SendingRules(ZoneInfo(zone), start, end, weekdays_only)


def _hand_over(channel: MessageChannel, message: _Claimed, recipient: str,
               now: dt.datetime) -> None:
    """Give a claimed message to its channel, under its stable key."""
    # Stable for this message (a resend carries the same Message-ID), unique across databases.
    key = message_key(message.dedupe_key, message.id, message.created_at)
    channel.send(Envelope(
        id=message.id, key=key, recipient=recipient, subject=message.subject,
        text=message.body_text, html=message.body_html, when=now,
        unsubscribe=message.unsubscribe_url or "",
    ))


def _deliver_one(
    sessions: sessionmaker[Session], channel: MessageChannel, message_id: int,
    worker: str, now: dt.datetime, report: DeliveryReport, max_attempts: int,
) -> None:
    """Re-check, send and record one claimed message (raises ConnectionFailure after recording)."""
    with sessions() as db:
        message = _load_claimed(db, message_id, worker)
    if message is None:
        return
    verdict, detail = _recheck(message, now)
    if verdict == "cancel":
        _finish(sessions, message_id, worker, status=OutboxStatus.CANCELLED, last_error=str(detail),
                body_text="", body_html="", unsubscribe_url=None)
        report.cancelled += 1
        return
    if verdict == "defer":
        assert isinstance(detail, dt.datetime)
        _finish(sessions, message_id, worker, next_attempt_at=detail)
        report.deferred += 1
        return
    recipient = str(detail)
    attempts = message.attempts + 1
    try:
        _hand_over(channel, message, recipient, now)
    except PermanentFailure as exc:
        error = redact_addresses(str(exc))[:2000]
        if _finish(sessions, message_id, worker, status=OutboxStatus.FAILED, attempts=attempts,
                   last_error=error, receipt=Receipt.PERMANENT_FAILURE, receipt_at=now,
                   receipt_detail=error, body_text="", body_html="",
                   unsubscribe_url=None) and exc.recipient:
            _refused(sessions, message, now, error)
        report.failed += 1
        report.errors.append(error)
    except TemporaryFailure as exc:
        if attempts >= max_attempts:
            _finish(sessions, message_id, worker, status=OutboxStatus.FAILED, attempts=attempts,
                    last_error=f"gave up after {attempts} attempts: {exc}"[:2000])
            report.failed += 1
        else:
            _finish(sessions, message_id, worker, attempts=attempts, last_error=str(exc)[:2000],
                    next_attempt_at=now + backoff(attempts))
            report.retrying += 1
        report.errors.append(str(exc))
        if isinstance(exc, ConnectionFailure):
            raise
    else:
        # Committed at once: the window in which a crash could cause a second copy is tiny.
        # The bodies hold live personal links; once delivered they are not kept.
        _finish(sessions, message_id, worker, status=OutboxStatus.SENT, sent_at=now, attempts=attempts,
                last_error=None, recipient=recipient, body_text="", body_html="",
                unsubscribe_url=None)
        report.sent += 1


def _refused(sessions: sessionmaker[Session], message: _Claimed, now: dt.datetime,
             error: str) -> None:
    """A refusal at sending: that contact is unreachable on that channel (audited); commits."""
    if message.participant_id is None:
        return
    with sessions.begin() as db:
        mark_unreachable(db, message.participant_id, Channel(message.channel), now,
                         source="refused at sending", detail=error, message_id=message.id)


def deliver(
    sessions: sessionmaker[Session],
    settings: MailSettings,
    now: dt.datetime | None = None,
    *,
    transport: Transport | None = None,
    batch_size: int = BATCH_SIZE,
    lease: dt.timedelta = LEASE,
    max_attempts: int = MAX_ATTEMPTS,
    worker: str | None = None,
    sms_settings: SmsSettings | None = None,
    sms_transport: SmsTransport | None = None,
    channels: Mapping[Channel, MessageChannel] | None = None,
) -> DeliveryReport:
    """Deliver every due pending message once; commits the claim, then each message's outcome.

    Messages go through a registry of channels keyed by Channel (`channels`, or else email
    from `settings`/`transport` and texts from `sms_settings`/`sms_transport`). Emails go
    first, then texts (each channel claimed in its own batches, so an unreachable mail server
    does not hold texts back). A channel with no entry waits for a pass that has it.
    """
    now = now or utcnow()
    worker = worker or uuid.uuid4().hex[:16]
    report = DeliveryReport()
    pass_started = time.monotonic()
    if channels is None:
        registry: dict[Channel, MessageChannel] = {
            Channel.EMAIL: EmailChannel(settings, transport)}
        if sms_transport is not None or sms_settings is not None:
            registry[Channel.SMS] = SmsChannel(sms_settings or SmsSettings(), sms_transport)
        channels = registry
    try:
        for medium, channel in channels.items():
            _deliver_channel(sessions, medium, channel, now, worker, report,
                             pass_started, batch_size=batch_size, lease=lease,
                             max_attempts=max_attempts)
    finally:
        for channel in channels.values():
            channel.close()
    return report


def _deliver_channel(
    sessions: sessionmaker[Session], medium: Channel, channel: MessageChannel,
    now: dt.datetime, worker: str, report: DeliveryReport,
    pass_started: float, *, batch_size: int, lease: dt.timedelta, max_attempts: int,
) -> None:
    """Claim and deliver the due messages of one channel, batch by batch."""
    while True:
        # Each claim's lease runs from when it is taken, not from the start of the pass: a
        # later batch claimed "as of" the start could already be free for another worker.
        claimed_at = now + dt.timedelta(seconds=time.monotonic() - pass_started)
        with sessions.begin() as db:
            ids = claim(db, claimed_at, worker, lease=lease, batch_size=batch_size,
                        channel=medium)
        if not ids:
            break
        started = time.monotonic()
        for position, message_id in enumerate(ids):
            if time.monotonic() - started > lease.total_seconds() / 2:
                # Never send under a lease that might run out: hand the rest back.
                _release(sessions, ids[position:], worker)
                break
            try:
                _deliver_one(sessions, channel, message_id, worker, now, report, max_attempts)
            except ConnectionFailure as exc:
                # The server is unreachable: the rest of the batch failed this attempt too.
                for other in ids[position + 1 :]:
                    _retry_unsent(sessions, other, worker, now, str(exc), report, max_attempts)
                return


def _release(sessions: sessionmaker[Session], ids: list[int], worker: str) -> None:
    """Give back claimed messages untouched."""
    with sessions.begin() as db:
        db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker)
            .values(claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )


def _retry_unsent(
    sessions: sessionmaker[Session], message_id: int, worker: str, now: dt.datetime, error: str,
    report: DeliveryReport, max_attempts: int,
) -> None:
    """Count a failed attempt for a claimed message the server could not be reached for."""
    with sessions() as db:
        attempts = db.scalar(select(OutboxMessage.attempts).where(OutboxMessage.id == message_id))
    attempts = (attempts or 0) + 1
    if attempts >= max_attempts:
        _finish(sessions, message_id, worker, status=OutboxStatus.FAILED, attempts=attempts,
                last_error=f"gave up after {attempts} attempts: {error}"[:2000])
        report.failed += 1
    else:
        _finish(sessions, message_id, worker, attempts=attempts, last_error=error[:2000],
                next_attempt_at=now + backoff(attempts))
        report.retrying += 1


def status_counts(db: Session) -> dict[str, int]:
    """How many messages are in each state (for the admin page)."""
    counts = {status.value: 0 for status in OutboxStatus}
    for status, count in db.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ):
        counts[OutboxStatus(status).value] = count
    return counts
