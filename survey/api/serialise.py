"""Domain objects as plain JSON-ready dicts; withheld figures never leave as numbers."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from survey.models import Organisation, Study, Wave
from survey.services.dashboard import GROUP_LABELS, Benchmark, Cell, Change, RateRow, TrustDashboard
from survey.services.dashboard_report import describe
from survey.services.dashboard_stats import Estimate

if TYPE_CHECKING:  # the statistics load only when a model is fitted
    import pandas as pd

    from analysis.results import GrowthResults


def wave_json(wave: Wave) -> dict[str, Any]:
    """One wave's timing."""
    return {
        "index": wave.index,
        "label": wave.label,
        "offset_days": wave.offset_days,
        "fixed_date": wave.fixed_date.isoformat() if wave.fixed_date else None,
        "window_days": wave.window_days,
    }


def study_json(study: Study) -> dict[str, Any]:
    """A study and its waves."""
    return {
        "code": study.code,
        "name": study.name,
        "status": study.status.value,
        "timezone": study.timezone,
        "waves": [wave_json(w) for w in study.waves],
    }


def _dp(value: float | None, places: int = 1) -> float | None:
    """A figure at the page's precision (means and differences to 1 decimal place)."""
    return None if value is None else round(value, places)


def cell_json(cell: Cell) -> dict[str, Any]:
    """A figure with its n; a withheld one carries neither."""
    if cell.suppressed:
        return {"suppressed": True, "n": None, "value": None}
    return {"suppressed": False, "n": None if cell.n_hidden else cell.n, "value": _dp(cell.value)}


def interval_json(cell: Cell) -> dict[str, Any]:
    """A shown mean's 95% interval at the page's precision; null when withheld or n < 2."""
    interval = cell.interval
    return {"ci_low": _dp(interval[0]) if interval else None,
            "ci_high": _dp(interval[1]) if interval else None}


def rate_json(row: RateRow) -> dict[str, Any]:
    """A response rate; a withheld one carries no counts."""
    shown = not row.suppressed
    return {
        "wave": row.wave,
        "label": row.label,
        "team": row.team,
        "group": row.group,
        "suppressed": row.suppressed,
        "invited": row.invited if shown else None,
        "completed": row.completed if shown and not row.completed_suppressed else None,
        "completed_suppressed": shown and row.completed_suppressed,
        "still_open": row.still_open if shown else None,
        "rate": _dp(row.rate, 3),
    }


def estimate_json(estimate: Estimate | None) -> dict[str, Any]:
    """A difference with its 95% interval; all null when withheld."""
    if estimate is None:
        return {"estimate": None, "ci_low": None, "ci_high": None}
    low, high = estimate.ci
    return {"estimate": _dp(estimate.value), "ci_low": _dp(low), "ci_high": _dp(high)}


def change_json(item: Change) -> dict[str, Any]:
    """A change between two waves (of a group's mean, or of the gap)."""
    return {
        "scale": item.scale, "group": item.group, "since": item.since,
        "wave_from": item.wave_from, "wave_to": item.wave_to,
        "suppressed": item.suppressed,
        "value_from": None if item.suppressed else _dp(item.value_from),
        "value_to": None if item.suppressed else _dp(item.value_to),
        **estimate_json(item.estimate), "verdict": item.verdict, "reason": item.reason,
    }


def benchmark_json(item: Benchmark) -> dict[str, Any]:
    """The trust beside the other trusts pooled; nothing of the comparator when withheld."""
    return {
        "scale": item.scale, "group": item.group, "wave": item.wave,
        "suppressed": item.suppressed, "trust_value": _dp(item.trust_value),
        "comparator_value": _dp(item.comparator_value),
        "comparator_trusts": item.comparator_trusts,
        **estimate_json(item.estimate), "verdict": item.verdict, "reason": item.reason,
    }


def dashboard_json(organisation: Organisation, board: TrustDashboard) -> dict[str, Any]:
    """The trust (or team) dashboard as tidy rows: the page's figures, withheld ones null."""
    return {
        "trust": {"code": organisation.code, "name": organisation.name},
        "team": None if board.team is None else {"code": board.team.code, "name": board.team.name},
        "study": {"code": board.study.code, "name": board.study.name},
        "min_group_size": board.min_group,
        # The publication rule: figures only of waves whose answers have closed, frozen then.
        "published_at": board.published_at.isoformat() if board.published_at else None,
        "published": [{"wave": w, "published_at": at.isoformat()}
                      for w, at in sorted(board.published.items())],
        "open_waves": [{"wave": o.wave, "label": o.label, "response_rate_percent": o.rate_percent}
                       for o in board.open_waves],
        "waves": [{"index": w.index, "label": w.label} for w in board.waves],
        "groups": [{"id": key, "label": label} for key, label in GROUP_LABELS.items()],
        "response_rates": [rate_json(r) for r in board.rates],
        "team_response_rates": [rate_json(r) for r in board.team_rates],
        "group_response_rates": [rate_json(r) for r in board.group_rates],
        "trends": [
            {"scale": scale, "group": group, "wave": wave, **cell_json(cell),
             **interval_json(cell)}
            for scale, groups in board.trends.items()
            for group, by_wave in groups.items()
            for wave, cell in by_wave.items()
        ],
        "gap_wave": board.gap_wave,
        "gaps": [
            {"scale": scale, "team": team, "peer_workers": cell_json(peer),
             "colleagues": cell_json(colleague), "gap": _dp(gap)}
            for scale, teams in board.gaps.items()
            for team, (peer, colleague, gap) in teams.items()
        ],
        "current_wave": board.current_wave,
        "summary": [{**change_json(c), "text": describe(c)} for c in board.summary],
        "changes": [change_json(c) for c in board.changes],
        "gap_trend": [{"scale": scale, "wave": wave, "gap": _dp(gap)}
                      for scale, by_wave in board.gap_trend.items()
                      for wave, gap in by_wave.items()],
        "gap_changes": [change_json(c) for c in board.gap_changes],
        "benchmarks": [benchmark_json(b) for b in board.benchmarks],
    }


def model_json(results: GrowthResults) -> str:
    """A fitted model as strict JSON text: the results' own JSON (NaN as null), as everywhere."""
    return results.to_json()


def _plain(value: Any) -> Any:
    """A table cell as plain JSON: numpy scalars as Python numbers, NaN as null."""
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and math.isnan(value) else value


def long_json(study: Study, frame: pd.DataFrame) -> dict[str, Any]:
    """The long table: the study's code, the columns, and one object per row (NaN as null)."""
    columns = [str(c) for c in frame.columns]
    return {"study": study.code, "columns": columns,
            "rows": [dict(zip(columns, map(_plain, row), strict=True))
                     for row in frame.itertuples(index=False)]}
