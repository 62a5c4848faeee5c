"""The dashboard at a glance: one scorecard row per scale and group, the gap and response rates
in one line each.

Built only from a TrustDashboard that `dashboard.build` has already suppressed, and showing only
figures its detailed tables show too (means and changes to one decimal place, verdicts, shown
rates): a withheld figure stays withheld here, and nothing new (no count, no unrounded mean) can
be read or worked out from the scorecard.
"""

from __future__ import annotations

import dataclasses

from survey.services import dashboard_stats as stats
from survey.services.dashboard import (
    GROUP_LABELS,
    SINCE_BASELINE,
    SINCE_PREVIOUS,
    Cell,
    Change,
    RateRow,
    TrustDashboard,
)
from survey.services.dashboard_report import one_dp, percent, scale_label

#: A verdict as a symbol beside its word, so colour is never the only signal.
SYMBOLS = {stats.BETTER: "▲", stats.WORSE: "▼", stats.NO_CLEAR_CHANGE: "=",
           stats.NARROWING: "▼", stats.WIDENING: "▲"}


@dataclasses.dataclass
class ScoreRow:
    """One scale and group: its latest shown mean and its two changes (None: no such wave)."""

    scale: str
    group: str
    mean: Cell
    previous: Change | None
    baseline: Change | None

    @property
    def label(self) -> str:
        """The scale as words."""
        return scale_label(self.scale)

    @property
    def group_label(self) -> str:
        """The group as words."""
        return GROUP_LABELS[self.group]


@dataclasses.dataclass
class Glance:
    """The scorecard, and the gap and response rates as one line each."""

    wave_label: str | None
    previous_label: str | None
    baseline_label: str | None
    rows: list[ScoreRow]
    gap_line: list[str]
    rates_line: list[str]

    @property
    def by_scale(self) -> list[list[ScoreRow]]:
        """The rows, one list per scale, in the dashboard's order."""
        scales: dict[str, list[ScoreRow]] = {}
        for row in self.rows:
            scales.setdefault(row.scale, []).append(row)
        return list(scales.values())


def _change(board: TrustDashboard, scale: str, group: str, since: str) -> Change | None:
    return next((c for c in board.changes
                 if c.scale == scale and c.group == group and c.since == since), None)


def _rate(row: RateRow) -> str:
    return f"{row.label} withheld" if row.rate is None else f"{row.label} {percent(row)}"


def glance(board: TrustDashboard) -> Glance:
    """The at-a-glance summary of a built dashboard (empty rows before any wave is published)."""
    current = board.current_wave
    if current is None:
        return Glance(None, None, None, [], [], _rates(board))
    rows = [ScoreRow(scale, group, row[current],
                     _change(board, scale, group, SINCE_PREVIOUS),
                     _change(board, scale, group, SINCE_BASELINE))
            for scale, groups in board.trends.items() for group, row in groups.items()
            # A group with no answers at this wave (say, a scale only peer workers are asked).
            if row[current].n or row[current].suppressed]
    previous = next((c.label_from for c in board.changes if c.since == SINCE_PREVIOUS), None)
    baseline = next((c.label_from for c in board.changes if c.since == SINCE_BASELINE), None)
    return Glance(board.label(current), previous, baseline, rows, _gaps(board, current),
                  _rates(board))


def _gaps(board: TrustDashboard, current: int) -> list[str]:
    """Each scale's gap at the latest wave; its change since baseline when that is clear."""
    parts = []
    for scale, by_wave in board.gap_trend.items():
        gap, cells = by_wave.get(current), [row[current] for row in board.trends[scale].values()]
        if gap is None:
            if any(c.suppressed for c in cells):
                parts.append(f"{scale_label(scale)} withheld")
            continue  # one of the two groups is not asked this scale
        change = next((c for c in board.gap_changes if c.scale == scale
                       and c.since == SINCE_BASELINE and not c.suppressed), None)
        clear = change is not None and change.verdict != stats.NO_CLEAR_CHANGE
        verdict = f" ({change.verdict} since {change.label_from})" if clear and change else ""
        parts.append(f"{scale_label(scale)} {one_dp(gap, signed=True)}{verdict}")
    return parts


def _rates(board: TrustDashboard) -> list[str]:
    """Each published wave's response rate, then each open wave's, rounded as the page has it."""
    parts = [_rate(r) for r in board.rates]
    for wave in board.open_waves:
        parts.append(f"{wave.label} still open" + (
            "" if wave.rate_percent is None else f", about {wave.rate_percent}% so far"))
    return parts
