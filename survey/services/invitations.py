"""Invitations: materialise participant × wave rows, open them, queue reminders, expire them.

Exactly once, even with several schedulers on one PostgreSQL database:
- materialise inserts with ON CONFLICT DO NOTHING on the (participant, wave) unique constraint;
- open and remind claim rows with UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)
  guarded by the row's state, so a row is claimed by one transaction only; the email is written
  to the outbox in that same transaction, under a unique dedupe_key ("invite:<id>",
  "remind:<id>:<n>"). On SQLite (one writer at a time) the same statement is a plain guarded
  UPDATE. Each batch is committed on its own, so a crash loses at most the batch in flight,
  which is rolled back whole and redone by the next pass.

Who commits: materialise, reschedule_participant and expire work in the caller's session and
never commit (the caller does: scheduler.run_step, the commands, the views). open_due and
queue_reminders commit in stages, one transaction per batch, so they take the session factory
and open a session for each batch themselves.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVarTuple

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, joinedload, sessionmaker

from survey.db import insert_on_conflict, utcnow
from survey.messaging import channels as channel_registry
from survey.messaging.base import Links
from survey.messaging.compose import compose
from survey.messaging.email import MailSettings
from survey.models import (
    Channel,
    Contact,
    Invitation,
    InvitationStatus,
    Participant,
    Study,
    StudyStatus,
    Wave,
)
from survey.services import schedule
from survey.services.tokens import emails_url, issue_token, later_url, survey_url, withdraw_url

BATCH_SIZE = 500
INSERT_CHUNK = 2000
OPEN_STATES = Invitation.OPEN_STATES

_Ts = TypeVarTuple("_Ts")


def _sendable(query: Select[*_Ts]) -> Select[*_Ts]:
    """Restrict a query over Invitation to active participants we can reach, in active studies."""
    return (
        query.join(Participant, Participant.id == Invitation.participant_id)
        .join(Contact, Contact.participant_id == Participant.id)
        .join(Wave, Wave.id == Invitation.wave_id)
        .join(Study, Study.id == Wave.study_id)
        .where(Participant.is_active, Study.status == StudyStatus.ACTIVE, Participant.reachable)
    )


def _insert_ignoring_duplicates(db: Session, rows: list[dict[str, Any]]) -> None:
    """INSERT invitations, skipping (participant, wave) pairs that already exist."""
    stmt = insert_on_conflict(db, Invitation).on_conflict_do_nothing(
        index_elements=["participant_id", "wave_id"]
    )
    for start in range(0, len(rows), INSERT_CHUNK):
        db.execute(stmt, rows[start : start + INSERT_CHUNK])


def materialise(db: Session, now: dt.datetime | None = None) -> int:
    """Create the missing invitation of every active participant for every wave (flushed).

    Idempotent: running it again, or in two processes at once, creates nothing twice.
    Returns the number of invitations created by this call.
    """
    now = now or utcnow()
    created = 0
    for study in db.scalars(select(Study).order_by(Study.id)).all():
        rules = schedule.SendingRules.for_study(study)
        waves = list(study.waves)
        if not waves:
            continue
        people = db.execute(
            select(Participant.id, Participant.anchor_date).where(
                Participant.study_id == study.id, Participant.is_active
            )
        ).all()
        existing = {
            (participant_id, wave_id)
            for participant_id, wave_id in db.execute(
                select(Invitation.participant_id, Invitation.wave_id)
                .join(Wave, Wave.id == Invitation.wave_id)
                .where(Wave.study_id == study.id)
            )
        }
        windows: dict[tuple[int, dt.date], tuple[dt.datetime, dt.datetime]] = {}
        rows: list[dict[str, Any]] = []
        for wave in waves:
            for participant_id, anchor in people:
                if (participant_id, wave.id) in existing:
                    continue
                key = (wave.id, schedule.wave_date(wave, anchor))
                if key not in windows:
                    windows[key] = schedule.window(rules, wave, anchor)
                opens_at, closes_at = windows[key]
                rows.append(
                    {
                        "participant_id": participant_id,
                        "wave_id": wave.id,
                        "status": InvitationStatus.SCHEDULED,
                        "opens_at": opens_at,
                        "closes_at": closes_at,
                        "reminders_sent": 0,
                        "created_at": now,
                    }
                )
        if not rows:
            continue
        count_query = (
            select(func.count(Invitation.id))
            .join(Wave, Wave.id == Invitation.wave_id)
            .where(Wave.study_id == study.id)
        )
        before = db.scalar(count_query) or 0
        _insert_ignoring_duplicates(db, rows)
        created += (db.scalar(count_query) or 0) - before
    return created


def reschedule_participant(db: Session, participant: Participant) -> int:
    """Recompute the windows of a participant's not-yet-opened invitations (anchor changed)."""
    rules = schedule.SendingRules.for_study(participant.study)
    changed = 0
    for invitation in db.scalars(
        select(Invitation).where(
            Invitation.participant_id == participant.id,
            Invitation.status == InvitationStatus.SCHEDULED,
        )
    ):
        opens_at, closes_at = schedule.window(rules, invitation.wave, participant.anchor_date)
        if (opens_at, closes_at) != (invitation.opens_at, invitation.closes_at):
            invitation.opens_at, invitation.closes_at = opens_at, closes_at
            changed += 1
    return changed


def _load(db: Session, ids: Sequence[int]) -> list[Invitation]:
    """The claimed invitations with what their emails need, fresh from the database."""
    return list(
        db.scalars(
            select(Invitation)
            .where(Invitation.id.in_(ids))
            .options(
                joinedload(Invitation.participant).joinedload(Participant.contact),
                joinedload(Invitation.wave).joinedload(Wave.study),
            )
            .order_by(Invitation.id)
            .execution_options(populate_existing=True)
        ).unique()
    )


def issue_links(db: Session, settings: MailSettings) -> Callable[[Invitation], Links]:
    """Issue a fresh personal link for an invitation and give its URLs (for `compose`)."""

    def links(invitation: Invitation) -> Links:
        token = issue_token(db, invitation)
        base = settings.base_url
        return Links(survey=survey_url(base, token), withdraw=withdraw_url(base, token),
                     unsubscribe=emails_url(base, token), later=later_url(base, token))

    return links


def queue_messages(
    db: Session, settings: MailSettings, invitation: Invitation, kind: str, dedupe_key: str,
    now: dt.datetime, *, send_at: dt.datetime | None = None, only: Channel | None = None,
) -> None:
    """Issue a fresh personal link and put the email and/or text in the outbox (same transaction).

    One `messaging.compose` step: the text's dedupe_key is the email's with "sms:" in front, so
    an email and a text for the same invitation are two messages, each queued once. `only`
    keeps one channel (a resend after a failure), `send_at` delays it.
    """
    compose(db, invitation, kind, dedupe_key, now, channels=channel_registry.renderers(settings),
            issue_links=issue_links(db, settings), send_at=send_at, only=only)


def _claim(
    db: Session, candidates: Select[Any], guard: Iterable[Any], values: dict[str, Any]
) -> list[int]:
    """Atomically move the candidate rows (locked, skipping rows others hold) to new values.

    The candidates are a MATERIALIZED CTE: as `id IN (subquery)`, PostgreSQL may plan a
    nested-loop semi-join that evaluates the LIMITed, SKIP LOCKED subquery more than once.
    """
    locked = (
        candidates.with_for_update(skip_locked=True, of=Invitation.__table__)
        .cte("candidates")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    stmt = (
        update(Invitation)
        .where(Invitation.id.in_(select(locked.c.id)), *guard)
        .values(**values)
        .returning(Invitation.id)
        .execution_options(synchronize_session=False)
    )
    return list(db.scalars(stmt).all())


def open_due(
    sessions: sessionmaker[Session], settings: MailSettings, now: dt.datetime | None = None, *,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Open every invitation whose window has begun, queueing its email; one transaction a batch."""
    now = now or utcnow()
    opened = 0
    while True:
        with sessions.begin() as db:
            candidates = (
                _sendable(select(Invitation.id))
                .where(
                    Invitation.status == InvitationStatus.SCHEDULED,
                    Invitation.opens_at <= now,
                    Invitation.closes_at > now,
                )
                .order_by(Invitation.id)
                .limit(batch_size)
            )
            ids = _claim(
                db, candidates, [Invitation.status == InvitationStatus.SCHEDULED],
                {"status": InvitationStatus.SENT, "sent_at": now},
            )
            if not ids:
                return opened
            for invitation in _load(db, ids):
                queue_messages(db, settings, invitation, "invite", f"invite:{invitation.id}", now)
        opened += len(ids)


def _reminders_due(db: Session, now: dt.datetime) -> dict[tuple[int, int, int], list[int]]:
    """(wave id, reminders sent, reminders due) -> the invitations that owe that reminder now."""
    due: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for wave in db.scalars(
        select(Wave).join(Study).where(Study.status == StudyStatus.ACTIVE).order_by(Wave.id)
    ).all():
        offsets = [int(x) for x in wave.reminder_offsets or []]
        if not offsets:
            continue
        rules = schedule.SendingRules.for_study(wave.study)
        rows = db.execute(
            _sendable(
                select(Invitation.id, Invitation.sent_at, Invitation.opens_at,
                       Invitation.closes_at, Invitation.reminders_sent)
            ).where(
                Invitation.wave_id == wave.id,
                Invitation.is_open,
                Invitation.closes_at > now,
                Invitation.reminders_sent < len(offsets),
                Invitation.remind_at.is_(None),  # "remind me later" replaces these
            )
        ).all()
        for inv_id, sent_at, opens_at, closes_at, sent_count in rows:
            number = schedule.reminders_due(rules, sent_at or opens_at, offsets, closes_at, now)
            if number > sent_count:
                due[(wave.id, sent_count, number)].append(inv_id)
    return due


def queue_reminders(
    sessions: sessionmaker[Session], settings: MailSettings, now: dt.datetime | None = None, *,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Queue the reminders that are due for open, unanswered invitations; one transaction a batch.

    When several reminders have fallen due (the scheduler was stopped), only the latest is
    sent: a person never gets more than the configured number, nor two at once.
    """
    now = now or utcnow()
    # Requested reminders first: each one counts as the scheduled reminders due by now.
    queued = _queue_requested(sessions, settings, now, batch_size)
    with sessions() as db:
        due = _reminders_due(db, now)
    for (_wave, old, new), ids in due.items():
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            with sessions.begin() as db:
                candidates = select(Invitation.id).where(
                    Invitation.id.in_(chunk), Invitation.reminders_sent == old,
                    Invitation.is_open, Invitation.remind_at.is_(None),
                )
                claimed = _claim(
                    db, candidates,
                    [Invitation.reminders_sent == old, Invitation.is_open,
                     Invitation.remind_at.is_(None)],
                    {"reminders_sent": new, "last_reminder_at": now},
                )
                for invitation in _load(db, claimed):
                    queue_messages(
                        db, settings, invitation, "remind", f"remind:{invitation.id}:{new}", now
                    )
            queued += len(claimed)
    return queued


def _queue_requested(
    sessions: sessionmaker[Session], settings: MailSettings, now: dt.datetime, batch_size: int,
) -> int:
    """Queue the reminders respondents asked for ("remind me later") that are due; exactly once.

    The claim clears remind_at in the same guarded UPDATE that takes the row, so only one
    transaction (one scheduler) gets each request; its message goes in that transaction under
    a key naming the request. The reminders the schedule owes by now count as sent.
    """
    queued = 0
    while True:
        with sessions.begin() as db:
            candidates = (
                _sendable(select(Invitation.id))
                .where(Invitation.remind_at <= now, Invitation.is_open,
                       Invitation.closes_at > now)
                .order_by(Invitation.id)
                .limit(batch_size)
            )
            requested: dict[int, dt.datetime | None] = {
                row.id: row.remind_at for row in db.execute(
                    select(Invitation.id, Invitation.remind_at).where(
                        Invitation.id.in_(candidates.scalar_subquery())))}
            claimed = _claim(
                db, candidates, [Invitation.remind_at <= now, Invitation.is_open],
                {"remind_at": None, "last_reminder_at": now},
            )
            if not claimed:
                return queued
            for invitation in _load(db, claimed):
                offsets = [int(x) for x in invitation.wave.reminder_offsets or []]
                if offsets:
                    rules = schedule.SendingRules.for_study(invitation.wave.study)
                    owed = schedule.reminders_due(rules, invitation.sent_at or invitation.opens_at,
                                                  offsets, invitation.closes_at, now)
                    invitation.reminders_sent = max(invitation.reminders_sent, owed)
                at = requested.get(invitation.id) or now
                queue_messages(db, settings, invitation, "remind",
                               f"remind:{invitation.id}:later:{int(at.timestamp())}", now)
        queued += len(claimed)


def expire(db: Session, now: dt.datetime | None = None) -> int:
    """Close windows that have ended, and cancel unopened invitations of people who left."""
    now = now or utcnow()
    expired = db.execute(
        update(Invitation)
        .where(
            Invitation.status.in_(Invitation.UNFINISHED_STATES),
            Invitation.closes_at <= now,
        )
        .values(status=InvitationStatus.EXPIRED)
        .execution_options(synchronize_session=False)
    )
    inactive = select(Participant.id).where(~Participant.is_active)
    db.execute(
        update(Invitation)
        .where(
            Invitation.status == InvitationStatus.SCHEDULED,
            Invitation.participant_id.in_(inactive),
        )
        .values(status=InvitationStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(expired, "rowcount", 0) or 0)
