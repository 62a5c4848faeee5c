"""The participants list's filters for one wave, and how many people each one holds.

Every filter is one SQL condition on Participant, built from the model rules (Invitation
states, Contact.email_works / mobile_works, Participant.reachable), so a count and the rows
it counts can never disagree. Read-only: nothing to commit.
"""

from __future__ import annotations

import enum

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from survey.models import Contact, Invitation, InvitationStatus, Participant, Study, Wave


class WaveFilter(enum.StrEnum):
    """Where a participant stands in one wave, or why messages do not reach them."""

    NOT_STARTED = "not-started"
    STARTED = "started"
    COMPLETED = "completed"
    BOUNCED = "bounced"
    UNREACHABLE = "unreachable"
    TEXTS_STOPPED = "texts-stopped"
    EMAILS_STOPPED = "emails-stopped"

    @property
    def label(self) -> str:
        """The filter's name on the page."""
        return LABELS[self]


LABELS = {
    WaveFilter.NOT_STARTED: "invited, nothing saved yet",
    WaveFilter.STARTED: "started, not finished",
    WaveFilter.COMPLETED: "completed",
    WaveFilter.BOUNCED: "an email or text failed for good",
    WaveFilter.UNREACHABLE: "no working contact",
    WaveFilter.TEXTS_STOPPED: "opted out of texts",
    WaveFilter.EMAILS_STOPPED: "opted out of emails",
}


def _in_wave(wave: Wave, *where: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(select(Invitation.id).where(
        Invitation.participant_id == Participant.id, Invitation.wave_id == wave.id, *where))


def condition(choice: WaveFilter, wave: Wave) -> ColumnElement[bool]:
    """The SQL condition on Participant for one filter of one wave."""
    contact = exists(select(Contact.participant_id).where(
        Contact.participant_id == Participant.id,
        or_(Contact.email_failed_at.is_not(None), Contact.mobile_failed_at.is_not(None))))
    conditions: dict[WaveFilter, ColumnElement[bool]] = {
        WaveFilter.NOT_STARTED: _in_wave(wave, Invitation.status == InvitationStatus.SENT),
        WaveFilter.STARTED: _in_wave(wave, Invitation.status == InvitationStatus.STARTED),
        WaveFilter.COMPLETED: _in_wave(wave, Invitation.status == InvitationStatus.COMPLETED),
        WaveFilter.BOUNCED: contact,
        WaveFilter.UNREACHABLE: and_(Participant.is_active, ~Participant.reachable),
        WaveFilter.TEXTS_STOPPED: Participant.sms_opted_out_at.is_not(None),
        WaveFilter.EMAILS_STOPPED: Participant.email_opted_out_at.is_not(None),
    }
    return conditions[choice]


def people(study: Study, wave: Wave | None, choice: WaveFilter | None) -> Select[Participant]:
    """The study's participants, narrowed to one filter of a wave when both are given."""
    query = select(Participant).where(Participant.study_id == study.id)
    if wave is not None and choice is not None:
        query = query.where(condition(choice, wave))
    return query


def counts(db: Session, study: Study, wave: Wave) -> dict[WaveFilter, int]:
    """How many of the study's participants each filter of the wave holds (one query)."""
    columns = [func.count().filter(condition(choice, wave)).label(choice.name)
               for choice in WaveFilter]
    row = db.execute(select(*columns).select_from(Participant)
                     .where(Participant.study_id == study.id)).one()
    return {choice: int(row._mapping[choice.name] or 0) for choice in WaveFilter}
