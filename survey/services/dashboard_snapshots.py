"""Reading published dashboard snapshots back, and the live counts behind a wave's snapshot.

A snapshot (models/dashboard.py) holds, for one wave and trust, the invitation counts by team
and role group, the count, sum and sum of squares of each scale score by team and role group,
and the change estimates' standard errors; a team's view holds its own change estimates. The
dashboard is built only from these, so it cannot move between two reads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from survey.models import (
    DashboardSnapshot,
    Invitation,
    InvitationStatus,
    Participant,
    Response,
    Role,
    ScaleScore,
    Study,
    Team,
    Wave,
)
from survey.models.dashboard import TRUST_VIEW

PEERS = "peer_workers"
COLLEAGUES = "colleagues"
INVITED = (InvitationStatus.SENT, InvitationStatus.STARTED, InvitationStatus.COMPLETED,
           InvitationStatus.EXPIRED)
#: (wave, breakdown, part) -> [invited, completed, still open]; part a team id or role group.
Totals = dict[tuple[int, str, Any], list[int]]
#: (scale, group, first wave, wave) -> (people answering both, standard error, df)
ChangeLookup = dict[tuple[str, str, int, int], tuple[int, float | None, float | None]]


def role_group(role: Role) -> str:
    """Managers answer the colleague survey and are counted with colleagues."""
    return PEERS if role.audience == "peer_worker" else COLLEAGUES


Scores = dict[int, float]  # participant id -> score at one wave
Key = tuple[str, str, int]  # (scale, group, wave)
TeamKey = tuple[str, str, int, str]  # (scale, group, wave, team name)


@dataclasses.dataclass
class Sums:
    """Count, sum and sum of squares of a group's scores, as SQL aggregates them."""

    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    def add(self, other: Sums) -> None:
        """Pool another group into this one."""
        self.n += other.n
        self.total += other.total
        self.squares += other.squares


def tallies(db: Session, study: Study, organisation_id: int,
            wave_ids: Iterable[int] | None = None) -> Totals:
    """Invited, completed and still-open counts per wave, in all, by team id and by role group."""
    query = (
        select(Wave.index, Participant.team_id, Participant.role, Invitation.status, func.count())
        .join(Invitation.wave).join(Invitation.participant).join(Participant.team)
        .where(Wave.study_id == study.id, Team.organisation_id == organisation_id,
               Invitation.status.in_(INVITED))
        .group_by(Wave.index, Participant.team_id, Participant.role, Invitation.status))
    if wave_ids is not None:
        query = query.where(Wave.id.in_(list(wave_ids)))
    # (wave, breakdown, part) -> [invited, completed, still open]
    totals: Totals = defaultdict(lambda: [0, 0, 0])
    for wave_index, team_id, role, status, count in db.execute(query).all():
        for key in ((wave_index, "all", None), (wave_index, "team", team_id),
                    (wave_index, "group", role_group(role))):
            totals[key][0] += count
            totals[key][1] += count if status == InvitationStatus.COMPLETED else 0
            totals[key][2] += count if status in (InvitationStatus.SENT,
                                                  InvitationStatus.STARTED) else 0
    return totals


@dataclasses.dataclass
class Published:
    """One wave's snapshot as read back: when it was published and its figures."""

    published_at: dt.datetime
    figures: dict[str, Any]
    changes: dict[str, Any]


def published(db: Session, study: Study, organisation_id: int, view: int
              ) -> dict[int, Published]:
    """The trust's published snapshots of this study by wave index (figures from view 0)."""
    rows = db.execute(
        select(Wave.index, DashboardSnapshot.view, DashboardSnapshot.published_at,
               DashboardSnapshot.figures)
        .join(Wave, DashboardSnapshot.wave_id == Wave.id)
        .where(DashboardSnapshot.study_id == study.id,
               DashboardSnapshot.organisation_id == organisation_id,
               DashboardSnapshot.view.in_([TRUST_VIEW, view]))).all()
    trust = {w: Published(at, figures, figures.get("changes", {}))
             for w, v, at, figures in rows if v == TRUST_VIEW}
    for w, v, _, figures in rows:
        if v == view and w in trust:
            trust[w].changes = figures.get("changes", {})
    return trust


def from_snapshots(published: dict[int, Published], team_names: dict[int, str]
                    ) -> tuple[Totals, dict[Key, Sums], dict[TeamKey, Sums], ChangeLookup]:
    """The counts, sums and change estimates of the published waves, as the build uses them."""
    totals: Totals = defaultdict(lambda: [0, 0, 0])
    by_group: dict[Key, Sums] = defaultdict(Sums)
    by_team: dict[TeamKey, Sums] = {}
    changes: ChangeLookup = {}
    for wave_index, snapshot in published.items():
        for kind, part, invited, completed, still_open in snapshot.figures["totals"]:
            if kind == "team":
                part = team_names.get(part, f"team {part}")
            totals[(wave_index, kind, part)] = [invited, completed, still_open]
        for scale, group, team_id, n, total, squares in snapshot.figures["sums"]:
            sums = Sums(n, total, squares)
            by_team[(scale, group, wave_index, team_names.get(team_id, f"team {team_id}"))] = sums
            by_group[(scale, group, wave_index)].add(sums)
        for scale, group, first, se, df, pairs in snapshot.changes.get("rows", []):
            changes[(scale, group, first, wave_index)] = (pairs, se, df)
    return totals, by_group, by_team, changes


@dataclasses.dataclass
class OpenWave:
    """A wave whose answers are still coming in: its response rate to the nearest 10% only."""

    wave: int
    label: str
    rate_percent: int | None  # None while fewer than the minimum group are invited


def open_waves(db: Session, study: Study, organisation_id: int, waves: list[Wave],
                shown: dict[int, Published], min_group: int) -> list[OpenWave]:
    """Each unpublished wave with invitations sent: the trust-wide response rate, rounded."""
    unpublished = [w for w in waves if w.index not in shown]
    if not unpublished:
        return []
    totals = tallies(db, study, organisation_id, [w.id for w in unpublished])
    result = []
    for wave in unpublished:
        invited, completed, _ = totals.get((wave.index, "all", None), [0, 0, 0])
        if invited:
            rate = round(10 * completed / invited) * 10 if invited >= min_group else None
            result.append(OpenWave(wave.index, wave.label, rate))
    return result


def _joined(study: Study, organisation_id: int, *columns: Any) -> Select[Any]:
    """The trust's submitted scale scores joined to wave and participant, as plain table columns.

    Tens of thousands of rows: no ORM row objects and no enum conversion per row; the role
    group is worked out in SQL.
    """
    score, response, invitation = (ScaleScore.__table__.c, Response.__table__.c,
                                   Invitation.__table__.c)
    wave, participant, team = Wave.__table__.c, Participant.__table__.c, Team.__table__.c
    return (
        select(*columns)
        .select_from(ScaleScore.__table__)
        .join(Response.__table__, score.response_id == response.id)
        .join(Invitation.__table__, response.invitation_id == invitation.id)
        .join(Wave.__table__, invitation.wave_id == wave.id)
        .join(Participant.__table__, invitation.participant_id == participant.id)
        .join(Team.__table__, participant.team_id == team.id)
        .where(wave.study_id == study.id, team.organisation_id == organisation_id,
               response.submitted_at.is_not(None), score.score.is_not(None))
    )


def _group_of() -> Any:
    participant = Participant.__table__.c
    return case((participant.role == Role.PEER_WORKER.value, PEERS), else_=COLLEAGUES)


def sums(db: Session, study: Study, organisation_id: int, wave_index: int
         ) -> list[list[Any]]:
    """[scale, group, team id, n, sum, sum of squares] of one wave's scores, aggregated in SQL."""
    score, wave, participant = ScaleScore.__table__.c, Wave.__table__.c, Participant.__table__.c
    group = _group_of()
    rows = db.connection().execute(
        _joined(study, organisation_id, score.scale, group, participant.team_id,
                func.count(score.score), func.sum(score.score), func.sum(score.score * score.score))
        .where(wave.index == wave_index)
        .group_by(participant.team_id, group, score.scale)
    ).all()
    return [[scale, group_id, team_id, int(n), float(total), float(squares)]
            for scale, group_id, team_id, n, total, squares in rows]


def scores(db: Session, study: Study, organisation_id: int, waves: list[int],
           team_id: int | None) -> dict[Key, Scores]:
    """Each participant's score at these waves (for changes), of the trust or one team."""
    score, wave, participant = ScaleScore.__table__.c, Wave.__table__.c, Participant.__table__.c
    query = _joined(study, organisation_id, wave.index, participant.id, _group_of(), score.scale,
                    score.score).where(wave.index.in_(waves))
    if team_id is not None:
        query = query.where(participant.team_id == team_id)
    result: dict[Key, Scores] = defaultdict(dict)
    for wave_index, participant_id, group_id, scale, value in db.connection().execute(query).all():
        result[(scale, group_id, wave_index)][participant_id] = value
    return result


def comparator_sums(db: Session, study: Study, wave_index: int, organisation_id: int
                    ) -> dict[tuple[str, str], dict[int, list[float]]]:
    """Every other trust's published sums at one wave: (scale, group) -> trust -> [n, sum, sq]."""
    rows = db.execute(
        select(DashboardSnapshot.organisation_id, DashboardSnapshot.figures)
        .join(Wave, DashboardSnapshot.wave_id == Wave.id)
        .where(DashboardSnapshot.study_id == study.id, Wave.index == wave_index,
               DashboardSnapshot.view == TRUST_VIEW,
               DashboardSnapshot.organisation_id != organisation_id)).all()
    pooled: dict[tuple[str, str], dict[int, list[float]]] = defaultdict(
        lambda: defaultdict(lambda: [0.0, 0.0, 0.0]))
    for org_id, figures in rows:
        for scale, group, _, n, total, squares in figures["sums"]:
            item = pooled[(scale, group)][org_id]
            item[0] += n
            item[1] += total
            item[2] += squares
    return pooled
