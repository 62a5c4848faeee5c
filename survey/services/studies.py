"""Studies: finding them, counting their participants, pausing and resuming them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.models import Participant, ParticipantStatus, Study, StudyStatus, User
from survey.services.audit import record_event


def by_code(db: Session, code: str) -> Study | None:
    """The study with this code, if there is one."""
    return db.scalar(select(Study).where(Study.code == code))


def by_name(db: Session) -> Sequence[Study]:
    """Every study, by name (for people choosing one)."""
    return db.scalars(select(Study).order_by(Study.name)).all()


def in_order_created(db: Session) -> Sequence[Study]:
    """Every study, oldest first (a stable order for the API and the dashboard's default)."""
    return db.scalars(select(Study).order_by(Study.created_at, Study.id)).all()


def participant_counts(db: Session) -> dict[tuple[int, ParticipantStatus], int]:
    """(study id, participant status) -> how many participants."""
    return {
        (study_id, status): n
        for study_id, status, n in db.execute(
            select(Participant.study_id, Participant.status, func.count())
            .group_by(Participant.study_id, Participant.status)
        )
    }


def set_status(db: Session, user: User | None, study: Study, status: StudyStatus) -> bool:
    """Pause or resume a study (audited); False when it already had that status.

    A paused study sends nothing: no invitations open, no reminders, no queued mail leaves.
    """
    if study.status == status:
        return False
    study.status = status
    action = "study.pause" if status == StudyStatus.PAUSED else "study.resume"
    record_event(db, user, action, "study", study.code)
    db.flush()
    return True
