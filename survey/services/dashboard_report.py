"""The dashboard in words and as a CSV: the same built (and suppressed) figures the page shows.

Figures are given to one decimal place, as in the NHS Staff Survey. A withheld figure is the
word "withheld" here as on the page; the CSV carries no number the page does not show.
"""

from __future__ import annotations

from collections.abc import Iterator

from instruments import safe_csv
from survey.services.dashboard import (
    COLLEAGUES,
    GAP,
    GROUP_LABELS,
    PEERS,
    Benchmark,
    Cell,
    Change,
    RateRow,
    TrustDashboard,
)

WITHHELD = "withheld"
CSV_COLUMNS = ["section", "scale", "group", "team", "wave", "compared_with", "value", "ci_low",
               "ci_high", "n", "completed", "still_open", "verdict"]
GROUP_WORDS = {PEERS: "peer workers", COLLEAGUES: "colleagues and managers",
               GAP: "gap (colleagues minus peer workers)"}


def one_dp(value: float | None, signed: bool = False) -> str:
    """A figure to one decimal place ("–" for none); never "-0.0"."""
    if value is None:
        return "–"
    text = f"{value:+.1f}" if signed else f"{value:.1f}"
    return text.replace("-0.0", "0.0").replace("+0.0", "0.0")


def percent(row: RateRow) -> str:
    """A response rate as a percentage to one decimal place."""
    return "–" if row.rate is None else f"{100 * row.rate:.1f}%"


def scale_label(scale: str) -> str:
    """A scale id as words."""
    return scale.replace("_", " ").capitalize()


def ci_text(item: Change | Benchmark) -> str:
    """The 95% interval as "a to b"."""
    assert item.estimate is not None
    low, high = item.estimate.ci
    return f"{one_dp(low)} to {one_dp(high)}"


def describe(item: Change) -> str:
    """One "what changed most" sentence."""
    assert item.estimate is not None
    direction = "up" if item.estimate.value > 0 else "down"
    return (f"{scale_label(item.scale)} among {GROUP_WORDS[item.group]}: {direction} "
            f"{one_dp(abs(item.estimate.value))} points since {item.label_from} "
            f"({one_dp(item.value_from)} to {one_dp(item.value_to)}; 95% CI {ci_text(item)}), "
            f"{item.verdict}.")


def _text(value: str) -> str:
    """A name as a CSV cell that a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _cell_row(section: str, scale: str, group: str, team: str, wave: str, cell: Cell,
              interval: bool = False) -> list[str]:
    team = _text(team)
    if cell.suppressed:
        return [section, scale, group, team, wave, "", WITHHELD, "", "", "", "", ""]
    n = "" if cell.n_hidden or cell.value is None else str(cell.n)
    low, high = (one_dp(v) for v in cell.interval) if interval and cell.interval else ("", "")
    return [section, scale, group, team, wave, "", one_dp(cell.value), low, high, n, "", ""]


def _estimate_row(section: str, item: Change | Benchmark, group: str, wave: str,
                  compared_with: str, value: float | None) -> list[str]:
    if item.estimate is None:
        return [section, item.scale, group, "", wave, compared_with, WITHHELD, "", "", "", "",
                item.reason or ""]
    low, high = item.estimate.ci
    return [section, item.scale, group, "", wave, compared_with, one_dp(value, signed=True),
            one_dp(low, signed=True), one_dp(high, signed=True), "", "", item.verdict or ""]


def _rate_row(section: str, row: RateRow, group: str = "", still_open: bool = False) -> list[str]:
    team = _text(row.team or "")
    if row.suppressed:
        return [section, "", group, team, row.label, "", WITHHELD, "", "", "", "", ""]
    waiting = str(row.still_open) if still_open and row.still_open else ""
    if row.completed_suppressed:  # the number who answered is withheld, and so the rate
        return [section, "", group, team, row.label, "", WITHHELD, "", "", str(row.invited),
                WITHHELD, waiting, ""]
    return [section, "", group, team, row.label, "", percent(row).rstrip("%"), "", "",
            str(row.invited), str(row.completed), waiting, ""]


def rows(board: TrustDashboard) -> Iterator[list[str]]:
    """Every figure of the page, in CSV_COLUMNS order."""
    for row in _rows(board):
        yield row if len(row) == len(CSV_COLUMNS) else [*row[:11], "", row[11]]


def _rows(board: TrustDashboard) -> Iterator[list[str]]:
    for rate in board.rates:
        yield _rate_row("response rate (%)", rate, still_open=True)
    for rate in board.group_rates:
        yield _rate_row("response rate (%)", rate, GROUP_LABELS[rate.group or ""])
    for rate in board.team_rates:
        yield _rate_row("response rate (%)", rate)
    for still_open in board.open_waves:  # to the nearest 10%, the trust as a whole, no more
        shown = WITHHELD if still_open.rate_percent is None else str(still_open.rate_percent)
        yield ["response rate (%), wave still open", "", "", "", _text(still_open.label), "", shown,
               "", "", "", "", ""]
    for scale, groups in board.trends.items():
        for group, by_wave in groups.items():
            for wave in board.waves:
                cell = by_wave[wave.index]
                if cell.n or cell.suppressed:
                    yield _cell_row("mean score", scale, GROUP_LABELS[group], "", wave.label, cell,
                                    interval=True)
    for item in board.changes:
        yield _estimate_row(f"change since {item.since}", item, GROUP_LABELS[item.group],
                            item.label_to, item.label_from,
                            item.estimate.value if item.estimate else None)
    for scale, gaps in board.gap_trend.items():
        for wave in board.waves:
            gap = gaps.get(wave.index)
            if gap is not None:
                yield ["gap (colleagues minus peer workers)", scale, "", "", wave.label, "",
                       one_dp(gap, signed=True), "", "", "", "", ""]
    for item in board.gap_changes:
        yield _estimate_row(f"gap change since {item.since}", item, "", item.label_to,
                            item.label_from, item.estimate.value if item.estimate else None)
    for bench in board.benchmarks:
        if bench.estimate is None:
            yield _estimate_row("trust minus other trusts pooled", bench,
                                GROUP_LABELS[bench.group], bench.label, "", None)
            continue
        yield ["trust mean", bench.scale, GROUP_LABELS[bench.group], "", bench.label, "",
               one_dp(bench.trust_value), "", "", "", "", ""]
        yield ["other trusts pooled mean", bench.scale, GROUP_LABELS[bench.group], "",
               bench.label, f"{bench.comparator_trusts} trusts", one_dp(bench.comparator_value),
               "", "", "", "", ""]
        yield _estimate_row("trust minus other trusts pooled", bench, GROUP_LABELS[bench.group],
                            bench.label, "", bench.estimate.value)
    for scale, teams in board.gaps.items():
        at = board.label(board.gap_wave) if board.gap_wave is not None else ""
        for team, (peer, colleague, team_gap) in teams.items():
            yield _cell_row("team mean", scale, GROUP_LABELS[PEERS], team, at, peer)
            yield _cell_row("team mean", scale, GROUP_LABELS[COLLEAGUES], team, at, colleague)
            if team_gap is not None:
                yield ["team gap (colleagues minus peer workers)", scale, "", _text(team), at, "",
                       one_dp(team_gap, signed=True), "", "", "", "", ""]


def csv_text(board: TrustDashboard) -> str:
    """The page's figures as CSV text (a header row, then one row per figure)."""
    return safe_csv.rows_text([CSV_COLUMNS, *rows(board)])
