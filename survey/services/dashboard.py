"""Trust dashboard figures: response rates, scale means over time and the perception gap.

Every figure is computed here, with suppression applied before anything reaches a page:
a cell describing fewer than `min_group` people is withheld, and when exactly one cell of a
breakdown would be withheld, the next smallest is withheld too, so that no hidden value can be
worked out from a total and the other cells (secondary suppression).
"""

from __future__ import annotations

import dataclasses
import statistics
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import (
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

PEERS = "peer_workers"
COLLEAGUES = "colleagues"
GROUP_LABELS = {PEERS: "Peer workers", COLLEAGUES: "Colleagues and managers"}
CORE_SCALES = ("identity", "support", "equality", "empowerment")
INVITED = (InvitationStatus.SENT, InvitationStatus.STARTED, InvitationStatus.COMPLETED,
           InvitationStatus.EXPIRED)


def role_group(role: Role) -> str:
    """Managers answer the colleague survey and are counted with colleagues."""
    return PEERS if role.audience == "peer_worker" else COLLEAGUES


@dataclasses.dataclass
class Cell:
    """One figure and the number of people behind it; value None when suppressed."""

    n: int
    value: float | None
    suppressed: bool = False
    # Shown, but its n is not: with a withheld sibling's n it would give that sibling's size.
    n_hidden: bool = False


@dataclasses.dataclass
class RateRow:
    """Response rate of one wave (and team, when broken down)."""

    wave: int
    label: str
    team: str | None
    invited: int
    completed: int
    still_open: int = 0
    suppressed: bool = False
    group: str | None = None  # PEERS or COLLEAGUES in the breakdown by role

    @property
    def rate(self) -> float | None:
        """Share of invited people who completed, or None when withheld."""
        if self.suppressed or not self.invited:
            return None
        return self.completed / self.invited


@dataclasses.dataclass
class TrustDashboard:
    """Everything the dashboard page shows for one trust and study."""

    study: Study
    min_group: int
    waves: list[Wave]
    rates: list[RateRow]
    team_rates: list[RateRow]
    group_rates: list[RateRow]
    # scale -> group -> wave index -> Cell
    trends: dict[str, dict[str, dict[int, Cell]]]
    # scale -> team name -> (peer Cell, colleague Cell, gap or None), at the latest wave with data
    gaps: dict[str, dict[str, tuple[Cell, Cell, float | None]]]
    gap_wave: int | None


def suppress(cells: Iterable[Cell], min_group: int) -> None:
    """Withhold small cells of one breakdown, and more until no hidden value can be derived.

    Once anything is withheld, at least two cells covering at least `min_group` people
    together are withheld, so subtracting the shown cells from a total never reveals a group
    smaller than `min_group`. Works in place.
    """
    cells = [c for c in cells if c.n > 0]
    for cell in cells:
        if cell.n < min_group:
            cell.value, cell.suppressed = None, True
    shown = sorted((c for c in cells if not c.suppressed), key=lambda c: c.n)
    withheld = [c for c in cells if c.suppressed]
    while withheld and shown and (len(withheld) < 2 or sum(c.n for c in withheld) < min_group):
        cell = shown.pop(0)
        cell.value, cell.suppressed = None, True
        withheld.append(cell)


def _tally(counts: list[int]) -> tuple[int, int, int]:
    """(invited, completed, still open) from a running tally."""
    return counts[0], counts[1], counts[2]


def _mean_cell(values: list[float]) -> Cell:
    return Cell(n=len(values), value=statistics.fmean(values) if values else None)


def build(db: Session, study: Study, organisation_id: int, min_group: int) -> TrustDashboard:
    """Compute the dashboard of one trust in one study, suppressed."""
    waves = list(study.waves)
    labels = {w.index: w.label for w in waves}
    invitations = db.execute(
        select(Wave.index, Team.name, Participant.role, Invitation.status)
        .join(Invitation.wave).join(Invitation.participant).join(Participant.team)
        .where(Wave.study_id == study.id, Team.organisation_id == organisation_id,
               Invitation.status.in_(INVITED))
    ).all()
    # (wave, breakdown, part) -> [invited, completed, still open]
    totals: dict[tuple[int, str, str | None], list[int]] = defaultdict(lambda: [0, 0, 0])
    for wave_index, team_name, role, status in invitations:
        for key in ((wave_index, "all", None), (wave_index, "team", team_name),
                    (wave_index, "group", role_group(role))):
            totals[key][0] += 1
            totals[key][1] += status == InvitationStatus.COMPLETED
            totals[key][2] += status in (InvitationStatus.SENT, InvitationStatus.STARTED)
    rates = [RateRow(w, labels[w], None, *_tally(totals[(w, "all", None)])) for w in sorted(labels)
             if (w, "all", None) in totals]
    for rate_row in rates:
        rate_row.suppressed = rate_row.invited < min_group
    team_rates = _breakdown(totals, labels, "team", min_group)
    group_rates = _breakdown(totals, labels, "group", min_group)

    scores = db.execute(
        select(Wave.index, Team.name, Participant.role, ScaleScore.scale, ScaleScore.score)
        .join(Response, ScaleScore.response_id == Response.id)
        .join(Invitation, Response.invitation_id == Invitation.id)
        .join(Invitation.wave).join(Invitation.participant).join(Participant.team)
        .where(Wave.study_id == study.id, Team.organisation_id == organisation_id,
               Response.submitted_at.is_not(None), ScaleScore.score.is_not(None))
    ).all()
    by_group: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    by_team: dict[tuple[str, str, int, str], list[float]] = defaultdict(list)
    for wave_index, team_name, role, scale, score in scores:
        assert score is not None  # filtered in the query
        group = role_group(role)
        by_group[(scale, group, wave_index)].append(score)
        by_team[(scale, group, wave_index, team_name)].append(score)

    trends: dict[str, dict[str, dict[int, Cell]]] = {}
    for scale in _scales_in(by_group):
        trends[scale] = {}
        for group in (PEERS, COLLEAGUES):
            by_wave = {w: _mean_cell(by_group.get((scale, group, w), [])) for w in sorted(labels)}
            for cell in by_wave.values():
                if cell.n and cell.n < min_group:
                    cell.value, cell.suppressed = None, True
            trends[scale][group] = by_wave
        for wave_index in labels:
            siblings = [trends[scale][g][wave_index] for g in (PEERS, COLLEAGUES)]
            if any(c.suppressed for c in siblings):
                for cell in siblings:
                    cell.n_hidden = not cell.suppressed and cell.n > 0

    gap_wave = max((w for (_, _, w) in by_group), default=None)
    gaps: dict[str, dict[str, tuple[Cell, Cell, float | None]]] = {}
    if gap_wave is not None:
        teams = sorted({t for (_, _, w, t) in by_team if w == gap_wave})
        for scale in [s for s in CORE_SCALES if s in trends]:
            peer_cells = [_mean_cell(by_team.get((scale, PEERS, gap_wave, t), [])) for t in teams]
            colleague_cells = [_mean_cell(by_team.get((scale, COLLEAGUES, gap_wave, t), []))
                               for t in teams]
            suppress(peer_cells, min_group)
            suppress(colleague_cells, min_group)
            gaps[scale] = {}
            for team, peer, colleague in zip(teams, peer_cells, colleague_cells, strict=True):
                gap = (colleague.value - peer.value
                       if peer.value is not None and colleague.value is not None else None)
                gaps[scale][team] = (peer, colleague, gap)
    return TrustDashboard(study, min_group, waves, rates, team_rates, group_rates, trends, gaps,
                          gap_wave)


def _breakdown(totals: dict[tuple[int, str, str | None], list[int]], labels: dict[int, str],
               breakdown: str, min_group: int) -> list[RateRow]:
    """Response rates by team or by role group, each wave's rows suppressed together."""
    rows: list[RateRow] = []
    for wave_index in sorted(labels):
        parts = sorted((part for (w, kind, part) in totals if w == wave_index and kind == breakdown),
                       key=str)
        wave_rows = [RateRow(wave_index, labels[wave_index], part if breakdown == "team" else None,
                             *_tally(totals[(wave_index, breakdown, part)]),
                             group=part if breakdown == "group" else None) for part in parts]
        cells = [Cell(n=r.invited, value=0.0) for r in wave_rows]
        suppress(cells, min_group)
        for rate_row, cell in zip(wave_rows, cells, strict=True):
            rate_row.suppressed = cell.suppressed
        rows += wave_rows
    return rows


def _scales_in(by_group: dict[tuple[str, str, int], list[float]]) -> list[str]:
    """Core scales first, then any others the instruments add, in a stable order."""
    present = {scale for scale, _, _ in by_group}
    return [s for s in CORE_SCALES if s in present] + sorted(present - set(CORE_SCALES))
