"""Trust dashboard figures: response rates, means over time, change with its uncertainty, the
perception gap and its change, and the comparison with all other trusts pooled.

Every figure is computed here, with suppression applied before anything reaches a page:
a cell describing fewer than `min_group` people is withheld, and when exactly one cell of a
breakdown would be withheld, the next smallest is withheld too, so that no hidden value can be
worked out from a total and the other cells (secondary suppression). A team's cells are
suppressed together with its sibling teams'. A change is shown only when both means are shown
and at least `min_group` people answered both waves; it is the difference of the two shown means,
so it reveals nothing they do not. The comparator pools every other trust and is shown only when
at least MIN_COMPARATOR_TRUSTS of them each have `min_group` people in the group.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.db import utcnow
from survey.models import (
    Study,
    Team,
    Wave,
)
from survey.models.dashboard import TRUST_VIEW
from survey.services import dashboard_stats as stats
from survey.services.dashboard_snapshots import (
    COLLEAGUES,
    PEERS,
    ChangeLookup,
    Key,
    OpenWave,
    Sums,
    TeamKey,
    Totals,
    comparator_sums,
    from_snapshots,
    open_waves,
)
from survey.services.dashboard_snapshots import published as published_snapshots
from survey.services.dashboard_stats import Estimate

GROUP_LABELS = {PEERS: "Peer workers", COLLEAGUES: "Colleagues and managers"}
CORE_SCALES = ("identity", "support", "equality", "empowerment")
GAP = "gap"  # the colleagues' mean minus the peer workers'
SINCE_PREVIOUS, SINCE_BASELINE = "previous wave", "baseline"
#: Scales on which a lower score is better (none today: all four constructs are higher-is-better).
HIGHER_IS_BETTER: dict[str, bool] = {}
#: The comparator is shown only when this many other trusts each clear the group threshold.
MIN_COMPARATOR_TRUSTS = 3

@dataclasses.dataclass
class Cell:
    """One figure and the number of people behind it; value None when suppressed."""

    n: int
    value: float | None
    suppressed: bool = False
    # Shown, but its n is not: with a withheld sibling's n it would give that sibling's size.
    n_hidden: bool = False
    # The mean's standard error and degrees of freedom, from the snapshot's sums (None: n < 2).
    se: float | None = dataclasses.field(default=None, repr=False)

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% t interval of a shown mean; None when the mean is withheld or has no spread."""
        if self.value is None or self.suppressed or self.se is None or self.n < 2:
            return None
        return Estimate(self.value, self.se, self.n - 1).ci


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
    # The completed count (and so the rate) is withheld: it would show, or with its siblings
    # give away by subtraction, the size of a group smaller than the minimum.
    completed_suppressed: bool = False

    @property
    def rate(self) -> float | None:
        """Share of invited people who completed, or None when withheld."""
        if self.suppressed or self.completed_suppressed or not self.invited:
            return None
        return self.completed / self.invited


@dataclasses.dataclass
class Change:
    """Change of one scale and group (or of the gap) between two waves; estimate None if withheld."""

    scale: str
    group: str  # PEERS, COLLEAGUES or GAP
    since: str  # SINCE_PREVIOUS or SINCE_BASELINE
    wave_from: int
    wave_to: int
    label_from: str
    label_to: str
    value_from: float | None = None  # the shown figures (means, or gaps) at the two waves
    value_to: float | None = None
    estimate: Estimate | None = None
    verdict: str | None = None
    reason: str | None = None  # why it is withheld

    @property
    def suppressed(self) -> bool:
        """Withheld: no estimate, no interval, no verdict."""
        return self.estimate is None


@dataclasses.dataclass
class Benchmark:
    """The trust beside all other trusts pooled, for one scale and group at one wave."""

    scale: str
    group: str
    wave: int
    label: str
    trust_value: float | None = None
    comparator_value: float | None = None
    comparator_trusts: int | None = None
    estimate: Estimate | None = None  # trust minus comparator
    verdict: str | None = None
    reason: str | None = None

    @property
    def suppressed(self) -> bool:
        """Withheld: neither the comparator's figure nor the difference is shown."""
        return self.estimate is None


@dataclasses.dataclass
class TrustDashboard:
    """Everything the dashboard page shows for one trust (or one of its teams) and study."""

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
    team: Team | None = None
    teams: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (code, name)
    current_wave: int | None = None
    changes: list[Change] = dataclasses.field(default_factory=list)
    # scale -> wave -> colleagues' mean minus peer workers' (None unless both are shown)
    gap_trend: dict[str, dict[int, float | None]] = dataclasses.field(default_factory=dict)
    gap_changes: list[Change] = dataclasses.field(default_factory=list)
    benchmarks: list[Benchmark] = dataclasses.field(default_factory=list)
    summary: list[Change] = dataclasses.field(default_factory=list)
    made_on: dt.date | None = None
    # wave index -> when its figures were published; the waves still open, rounded rates only
    published: dict[int, dt.datetime] = dataclasses.field(default_factory=dict)
    open_waves: list[OpenWave] = dataclasses.field(default_factory=list)

    @property
    def published_at(self) -> dt.datetime | None:
        """When the latest published wave's figures were published."""
        return max(self.published.values(), default=None)

    def label(self, wave: int) -> str:
        """The label of a wave."""
        return next(w.label for w in self.waves if w.index == wave)


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


def _mean_cell(sums: Sums | None) -> Cell:
    if sums is None or not sums.n:
        return Cell(n=0, value=None)
    spread = stats.Summary.from_sums(sums.n, sums.total, sums.squares)
    se = (spread.variance / sums.n) ** 0.5 if sums.n > 1 else None
    return Cell(n=sums.n, value=spread.mean, se=se)


def build(db: Session, study: Study, organisation_id: int, min_group: int,
          team_id: int | None = None, today: dt.date | None = None) -> TrustDashboard:
    """Compute the dashboard of one trust (or one of its teams) in one study, suppressed.

    Only published waves have figures, read from their frozen snapshots (the publication rule,
    services/dashboard_publication.py); a wave still open shows its response rate rounded to 10%.
    """
    waves = list(study.waves)
    labels = {w.index: w.label for w in waves}
    view = TRUST_VIEW if team_id is None else team_id
    published = published_snapshots(db, study, organisation_id, view)
    team_names: dict[int, str] = dict(db.execute(
        select(Team.id, Team.name).where(Team.organisation_id == organisation_id)).all())
    totals, by_group, by_team, changes = from_snapshots(published, team_names)
    rates = [RateRow(w, labels[w], None, *_tally(totals[(w, "all", None)])) for w in sorted(labels)
             if (w, "all", None) in totals]
    for rate_row in rates:
        rate_row.suppressed = rate_row.invited < min_group
        rate_row.completed_suppressed = 0 < rate_row.completed < min_group
    team_rates = _breakdown(totals, labels, "team", min_group)
    group_rates = _breakdown(totals, labels, "group", min_group)
    team = db.get(Team, team_id) if team_id is not None else None
    teams = [(code, name) for code, name in db.execute(
        select(Team.code, Team.name).where(Team.organisation_id == organisation_id)
        .order_by(Team.name))]

    trends = _trends(by_group, labels, min_group)
    if team is not None:
        siblings = sorted({t for (*_, t) in by_team} | {team.name})
        team_trends = _team_trends(by_team, siblings, team.name, trends, labels, min_group)
        board = TrustDashboard(study, min_group, waves,
                               [r for r in team_rates if r.team == team.name], [], [],
                               team_trends, {}, None, team=team, teams=teams)
        _add_changes(board, changes)
    else:
        board = TrustDashboard(study, min_group, waves, rates, team_rates, group_rates, trends,
                               *_team_gaps(by_group, by_team, trends, min_group), teams=teams)
        _add_changes(board, changes)
        if board.current_wave is not None:
            board.benchmarks = _benchmarks(db, study, organisation_id, board, by_group)
    board.published = {w: snapshot.published_at for w, snapshot in published.items()}
    board.open_waves = open_waves(db, study, organisation_id, waves, published, min_group)
    board.made_on = today or utcnow().date()
    return board


def _trends(by_group: dict[Key, Sums], labels: dict[int, str],
            min_group: int) -> dict[str, dict[str, dict[int, Cell]]]:
    """Mean per scale, group and wave; small cells withheld, a withheld sibling's n protected."""
    trends: dict[str, dict[str, dict[int, Cell]]] = {}
    for scale in _scales_in(by_group):
        trends[scale] = {}
        for group in (PEERS, COLLEAGUES):
            by_wave = {w: _mean_cell(by_group.get((scale, group, w))) for w in sorted(labels)}
            for cell in by_wave.values():
                if cell.n and cell.n < min_group:
                    cell.value, cell.suppressed = None, True
            trends[scale][group] = by_wave
        _hide_sibling_n(trends[scale], labels)
    return trends


def _hide_sibling_n(groups: dict[str, dict[int, Cell]], labels: dict[int, str]) -> None:
    """When one group of a wave is withheld, the other's n is not shown (it would give it away)."""
    for wave_index in labels:
        siblings = [groups[g][wave_index] for g in (PEERS, COLLEAGUES)]
        if any(c.suppressed for c in siblings):
            for cell in siblings:
                cell.n_hidden = cell.n_hidden or (not cell.suppressed and cell.n > 0)


def _team_trends(by_team: dict[TeamKey, Sums], team_names: list[str],
                 team_name: str, trust_trends: dict[str, dict[str, dict[int, Cell]]],
                 labels: dict[int, str], min_group: int) -> dict[str, dict[str, dict[int, Cell]]]:
    """One team's means, withheld together with its sibling teams so no team can be derived."""
    trends: dict[str, dict[str, dict[int, Cell]]] = {}
    for scale, groups in trust_trends.items():
        trends[scale] = {}
        for group, trust_row in groups.items():
            trends[scale][group] = {}
            for wave_index in sorted(labels):
                cells = [_mean_cell(by_team.get((scale, group, wave_index, t)))
                         for t in team_names]
                suppress(cells, min_group)
                cell = cells[team_names.index(team_name)]
                # With every team's n, a withheld trust-level n would follow from their sum.
                cell.n_hidden = trust_row[wave_index].n_hidden and not cell.suppressed and cell.n > 0
                trends[scale][group][wave_index] = cell
        _hide_sibling_n(trends[scale], labels)
    return trends


def _team_gaps(by_group: dict[Key, Sums], by_team: dict[TeamKey, Sums],
               trends: dict[str, dict[str, dict[int, Cell]]], min_group: int
               ) -> tuple[dict[str, dict[str, tuple[Cell, Cell, float | None]]], int | None]:
    """Peer and colleague means per team at the latest wave with answers, and their gap."""
    gap_wave = max((w for (_, _, w) in by_group), default=None)
    gaps: dict[str, dict[str, tuple[Cell, Cell, float | None]]] = {}
    if gap_wave is None:
        return gaps, None
    teams = sorted({t for (_, _, w, t) in by_team if w == gap_wave})
    for scale in [s for s in CORE_SCALES if s in trends]:
        peer_cells = [_mean_cell(by_team.get((scale, PEERS, gap_wave, t))) for t in teams]
        colleague_cells = [_mean_cell(by_team.get((scale, COLLEAGUES, gap_wave, t)))
                           for t in teams]
        suppress(peer_cells, min_group)
        suppress(colleague_cells, min_group)
        gaps[scale] = {}
        for team, peer, colleague in zip(teams, peer_cells, colleague_cells, strict=True):
            gaps[scale][team] = (peer, colleague, _gap(peer, colleague))
    return gaps, gap_wave


def _add_changes(board: TrustDashboard, changes: ChangeLookup) -> None:
    """Change since the previous wave and since baseline, the gap's change, and the summary."""
    order = [w.index for w in board.waves]
    shown = [w for w in order
             if any(row[w].value is not None for groups in board.trends.values()
                    for row in groups.values())]
    board.current_wave = max(shown, key=order.index, default=None)
    board.gap_trend = {scale: {w: _gap(groups[PEERS][w], groups[COLLEAGUES][w]) for w in order}
                       for scale, groups in board.trends.items()}
    current = board.current_wave
    if current is None or order.index(current) == 0:
        return
    comparisons = ((SINCE_PREVIOUS, order[order.index(current) - 1]), (SINCE_BASELINE, order[0]))
    for scale, groups in board.trends.items():
        for since, first in comparisons:
            pair = {}
            for group, row in groups.items():
                item = _change(scale, group, since, row[first], row[current],
                               changes.get((scale, group, first, current)), board)
                board.changes.append(item)
                pair[group] = item
            board.gap_changes.append(_gap_change(scale, since, pair[COLLEAGUES], pair[PEERS], board))
    board.summary = _largest_changes(board.changes)


def _gap(peers: Cell, colleagues: Cell) -> float | None:
    """Colleagues' mean minus peer workers', when both are shown."""
    if peers.value is None or colleagues.value is None:
        return None
    return colleagues.value - peers.value


def _change(scale: str, group: str, since: str, cell_from: Cell, cell_to: Cell,
            published: tuple[int, float | None, float | None] | None,
            board: TrustDashboard) -> Change:
    """One group's change, withheld unless both means are shown and enough people answered both.

    The estimate is the difference of the two shown means; its standard error was worked out
    from the paired scores when the later wave was published.
    """
    first, current = _waves_of(board, since)
    item = Change(scale, group, since, first, current, board.label(first), board.label(current))
    if cell_from.value is None or cell_to.value is None:
        item.reason = (f"withheld: fewer than {board.min_group} people answered at one of the "
                       "waves" if cell_from.n or cell_to.n else "no answers at one of the waves")
        return item
    pairs, se, df = published or (0, None, None)
    if pairs < board.min_group or se is None or df is None:
        item.reason = f"withheld: fewer than {board.min_group} people answered both waves"
        return item
    item.value_from, item.value_to = cell_from.value, cell_to.value
    item.estimate = Estimate(cell_to.value - cell_from.value, se, df)
    item.verdict = stats.change_verdict(item.estimate, HIGHER_IS_BETTER.get(scale, True))
    return item


def _waves_of(board: TrustDashboard, since: str) -> tuple[int, int]:
    """The (from, to) waves of a comparison."""
    order = [w.index for w in board.waves]
    assert board.current_wave is not None
    current = board.current_wave
    first = order[0] if since == SINCE_BASELINE else order[order.index(current) - 1]
    return first, current


def _gap_change(scale: str, since: str, colleagues: Change, peers: Change,
                board: TrustDashboard) -> Change:
    """Change of the colleagues-minus-peers gap: the colleagues' change minus the peers'."""
    item = Change(scale, GAP, since, peers.wave_from, peers.wave_to, peers.label_from,
                  peers.label_to)
    if colleagues.estimate is None or peers.estimate is None:
        item.reason = "withheld: the change of one of the two groups is withheld"
        return item
    item.value_from = board.gap_trend[scale][item.wave_from]
    item.value_to = board.gap_trend[scale][item.wave_to]
    assert item.value_from is not None  # both changes shown: both means shown at both waves
    assert item.value_to is not None
    item.estimate = stats.difference(colleagues.estimate, peers.estimate)
    item.verdict = stats.gap_verdict(item.value_from, item.value_to, item.estimate)
    return item


def _largest_changes(changes: list[Change], per_direction: int = 3) -> list[Change]:
    """The largest reliable rises, then the largest reliable falls (one per scale and group)."""
    best: dict[tuple[str, str], Change] = {}
    for item in changes:
        if item.estimate is None or item.verdict == stats.NO_CLEAR_CHANGE:
            continue
        key = (item.scale, item.group)
        if key not in best or abs(item.estimate.value) > abs(best[key].estimate.value):  # type: ignore[union-attr]
            best[key] = item
    ranked = sorted(best.values(), key=lambda c: -abs(c.estimate.value))  # type: ignore[union-attr]
    rises = [c for c in ranked if c.estimate is not None and c.estimate.value > 0][:per_direction]
    falls = [c for c in ranked if c.estimate is not None and c.estimate.value < 0][:per_direction]
    return rises + falls


def _benchmarks(db: Session, study: Study, organisation_id: int, board: TrustDashboard,
                own_sums: dict[Key, Sums]) -> list[Benchmark]:
    """The trust beside every other trust pooled, at the current wave, from published figures.

    The other trusts' figures are their published snapshots of the same wave, so the comparator
    cannot move between two reads either. Only the pooled comparator leaves this function, and
    only when at least
    MIN_COMPARATOR_TRUSTS other trusts each have `min_group` or more people in it.
    """
    wave, min_group = board.current_wave, board.min_group
    assert wave is not None
    pooled = comparator_sums(db, study, wave, organisation_id)
    benchmarks = []
    for scale, groups in board.trends.items():
        for group, row in groups.items():
            item = Benchmark(scale, group, wave, board.label(wave))
            by_org = pooled.get((scale, group), {})
            big = sum(1 for n, _, _ in by_org.values() if n >= min_group)
            if row[wave].value is None:
                item.reason = "withheld: the trust's own figure is withheld"
            elif big < MIN_COMPARATOR_TRUSTS:
                item.reason = (f"not shown: fewer than {MIN_COMPARATOR_TRUSTS} other trusts with "
                               f"{min_group} or more people")
            else:
                n = int(sum(v[0] for v in by_org.values()))
                others = stats.Summary.from_sums(n, sum(v[1] for v in by_org.values()),
                                                 sum(v[2] for v in by_org.values()))
                mine = own_sums[(scale, group, wave)]
                own = stats.Summary.from_sums(mine.n, mine.total, mine.squares)
                item.trust_value, item.comparator_value = row[wave].value, others.mean
                item.comparator_trusts = len(by_org)
                estimate = stats.welch(own, others)
                if isinstance(estimate, Estimate):
                    item.estimate = estimate
                    item.verdict = stats.benchmark_verdict(estimate)
                else:
                    item.reason = estimate.reason
            benchmarks.append(item)
    return benchmarks


def _breakdown(totals: Totals, labels: dict[int, str],
               breakdown: str, min_group: int) -> list[RateRow]:
    """Response rates by team or by role group, each wave's rows suppressed together.

    Rows are withheld on the number invited, then their completed counts on the number who
    answered, in a second pass: otherwise the trust's total less the shown teams' counts would
    give the number who answered in a withheld team (complementary suppression).
    """
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
        answered = [Cell(n=r.completed, value=0.0, suppressed=r.suppressed) for r in wave_rows]
        suppress(answered, min_group)
        for rate_row, cell in zip(wave_rows, answered, strict=True):
            rate_row.completed_suppressed = cell.suppressed and not rate_row.suppressed
        rows += wave_rows
    return rows


def _scales_in(by_group: dict[Key, Sums]) -> list[str]:
    """Core scales first, then any others the instruments add, in a stable order."""
    present = {scale for scale, _, _ in by_group}
    return [s for s in CORE_SCALES if s in present] + sorted(present - set(CORE_SCALES))
