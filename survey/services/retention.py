"""Data retention: after a study closes and its retention period passes, forget who took part.

A study closes when its last answer window ends (the latest `closes_at` of its invitations).
Once `study.retention_days` more days have passed, `apply_retention` deletes the contact rows
of its participants and the token hashes of its personal links (the links then show the
invalid-link page), cancels its pending email and blanks the addresses and bodies kept on its
outbox messages. The pseudonymous participants, answers and scores stay. Each study done is
audited, with counts only. Studies without a retention period are kept as they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from survey.models import Contact, Invitation, LinkToken, OutboxMessage, OutboxStatus, Participant, Study
from survey.services.audit import record_event


@dataclass(frozen=True)
class RetentionResult:
    """What retention did (or would do) to one study."""

    study_code: str
    closed_at: dt.datetime
    due_at: dt.datetime
    contacts: int
    link_tokens: int
    messages_cancelled: int
    messages_blanked: int

    @property
    def changed(self) -> bool:
        """Whether there was anything left to delete or blank."""
        return bool(self.contacts or self.link_tokens or self.messages_cancelled
                    or self.messages_blanked)

    def line(self) -> str:
        """One line for the terminal."""
        return (
            f"{self.study_code}: closed {self.closed_at:%Y-%m-%d}, retention due {self.due_at:%Y-%m-%d}: "
            f"{self.contacts} contact details, {self.link_tokens} link tokens, "
            f"{self.messages_cancelled} pending emails cancelled, "
            f"{self.messages_blanked} stored emails blanked"
        )


def closed_at(db: Session, study: Study) -> dt.datetime | None:
    """When the study's last answer window ends (None before any invitation exists)."""
    return db.scalar(
        select(func.max(Invitation.closes_at))
        .join(Participant, Participant.id == Invitation.participant_id)
        .where(Participant.study_id == study.id)
    )


def due_studies(db: Session, now: dt.datetime) -> list[tuple[Study, dt.datetime, dt.datetime]]:
    """Studies past close + retention: (study, closed at, due at)."""
    out = []
    for study in db.scalars(
        select(Study).where(Study.retention_days.is_not(None)).order_by(Study.code)
    ):
        closed = closed_at(db, study)
        if closed is None or study.retention_days is None:
            continue
        due = closed + dt.timedelta(days=study.retention_days)
        if due <= now:
            out.append((study, closed, due))
    return out


def apply_retention(db: Session, now: dt.datetime, dry_run: bool = True) -> list[RetentionResult]:
    """Delete contact details and link tokens of every study due (or only count them); flushes.

    Studies already done show zero counts and are not audited again.
    """
    results = []
    for study, closed, due in due_studies(db, now):
        people = select(Participant.id).where(Participant.study_id == study.id)
        invitations = select(Invitation.id).where(Invitation.participant_id.in_(people))
        study_mail = OutboxMessage.invitation_id.in_(invitations)
        pending = study_mail & (OutboxMessage.status == OutboxStatus.PENDING)
        kept_mail = study_mail & (
            (OutboxMessage.recipient != "") | (OutboxMessage.body_text != "")
            | (OutboxMessage.body_html != "")
        )
        result = RetentionResult(
            study_code=study.code, closed_at=closed, due_at=due,
            contacts=_count(db, select(func.count()).select_from(Contact)
                            .where(Contact.participant_id.in_(people))),
            link_tokens=_count(db, select(func.count()).select_from(LinkToken)
                               .where(LinkToken.invitation_id.in_(invitations))),
            messages_cancelled=_count(db, select(func.count()).select_from(OutboxMessage)
                                      .where(pending)),
            messages_blanked=_count(db, select(func.count()).select_from(OutboxMessage)
                                    .where(kept_mail)),
        )
        results.append(result)
        if dry_run or not result.changed:
            continue
        no_sync = {"synchronize_session": False}
        db.execute(update(OutboxMessage).where(pending).values(
            status=OutboxStatus.CANCELLED, last_error="retention period over",
            claimed_by=None, claimed_until=None).execution_options(**no_sync))
        # Sent and failed messages keep their status, without the address or the link.
        db.execute(update(OutboxMessage).where(study_mail).values(
            recipient="", body_text="", body_html="").execution_options(**no_sync))
        db.execute(delete(LinkToken).where(LinkToken.invitation_id.in_(invitations))
                   .execution_options(**no_sync))
        db.execute(delete(Contact).where(Contact.participant_id.in_(people))
                   .execution_options(**no_sync))
        record_event(db, None, "retention.apply", "study", study.code, detail={
            "contacts_deleted": result.contacts, "link_tokens_deleted": result.link_tokens,
            "emails_cancelled": result.messages_cancelled,
            "emails_blanked": result.messages_blanked,
            "retention_days": study.retention_days,
        })
        db.flush()
        # Loaded objects may still hold the deleted rows.
        db.expire_all()
    return results


def _count(db: Session, query: object) -> int:
    return int(db.scalar(query) or 0)  # type: ignore[call-overload]
