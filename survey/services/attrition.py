"""Attrition report for researchers: retention by wave, role and team, missing-wave patterns,
and the first-wave scores of those who stayed against those who left.

Only pseudonymous codes are read (participant, team); contact details never are. Waves count
once their first invitations have opened; a wave still open will show misses that may yet be
answered, and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis import AnalysisError
from survey.db import utcnow
from survey.models import Invitation, Participant, Response, Study, Team, Wave
from survey.services import datasets

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class AttritionReport:
    """Everything the attrition page shows."""

    waves: list[int]
    enrolled: int
    overall: pd.DataFrame
    by_role: pd.DataFrame
    by_team: pd.DataFrame
    patterns: pd.DataFrame
    baseline: pd.DataFrame | None
    notes: list[str] = field(default_factory=list)


def build(db: Session, study: Study) -> AttritionReport:
    """The study's attrition report; AnalysisError when no wave has been answered yet."""
    # Imported here, not at the top: importing the app stays free of pandas.
    import pandas as pd

    from analysis.attrition import retention, stayers_and_leavers, wave_patterns

    now = utcnow()
    opened = db.execute(
        select(Wave.index, func.min(Invitation.opens_at), func.max(Invitation.closes_at))
        .join(Invitation, Invitation.wave_id == Wave.id)
        .where(Wave.study_id == study.id).group_by(Wave.index).order_by(Wave.index)
    ).all()
    waves = [w for w, opens, _closes in opened if _naive(opens) <= _naive(now)]
    still_open = [w for w, opens, closes in opened if w in waves and _naive(closes) > _naive(now)]
    invited = db.execute(
        select(Participant.code).join(Invitation, Invitation.participant_id == Participant.id)
        .join(Wave, Invitation.wave_id == Wave.id)
        .where(Wave.study_id == study.id, Wave.index.in_(waves)).distinct()
    ).scalars().all()
    answered = pd.DataFrame(db.execute(
        select(Participant.code, Participant.role, Team.code, Wave.index)
        .join(Invitation, Invitation.participant_id == Participant.id)
        .join(Wave, Invitation.wave_id == Wave.id)
        .join(Response, Response.invitation_id == Invitation.id)
        .join(Team, Participant.team_id == Team.id)
        .where(Wave.study_id == study.id, Wave.index.in_(waves),
               Response.is_submitted)
    ).all(), columns=["participant", "role", "team", "wave"])
    if answered.empty:
        raise AnalysisError("no wave has been answered yet: there is no attrition to report")
    answered["role"] = answered["role"].map(lambda r: r.value)
    notes = []
    if still_open:
        notes.append(f"Wave(s) {', '.join(map(str, still_open))} are still open: some misses "
                     "there may yet be answered.")
    baseline = None
    try:
        baseline = stayers_and_leavers(datasets.long_scores(db, study))
    except AnalysisError as exc:
        notes.append(f"Stayers against leavers: {exc}")
    return AttritionReport(
        waves=waves,
        enrolled=len(invited),
        overall=retention(answered),
        by_role=retention(answered, by=["role"]),
        by_team=retention(answered, by=["team"]),
        patterns=wave_patterns(answered, waves=waves, subjects=list(invited)),
        baseline=baseline,
        notes=notes,
    )


def _naive(moment: object) -> pd.Timestamp:
    """Compare stored times as UTC whether the backend kept the zone or not."""
    import pandas as pd

    stamp = pd.Timestamp(moment)
    return stamp.tz_convert(None) if stamp.tzinfo else stamp
