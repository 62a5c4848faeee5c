"""Domain objects as plain JSON-ready dicts; withheld figures never leave as numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from survey.models import Organisation, Study, Wave
from survey.services.dashboard import GROUP_LABELS, Cell, RateRow, TrustDashboard

if TYPE_CHECKING:  # the statistics load only when a model is fitted
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


def cell_json(cell: Cell) -> dict[str, Any]:
    """A figure with its n; a withheld one carries neither."""
    if cell.suppressed:
        return {"suppressed": True, "n": None, "value": None}
    return {"suppressed": False, "n": None if cell.n_hidden else cell.n, "value": cell.value}


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
        "completed": row.completed if shown else None,
        "still_open": row.still_open if shown else None,
        "rate": row.rate,
    }


def dashboard_json(organisation: Organisation, board: TrustDashboard) -> dict[str, Any]:
    """The trust dashboard as tidy rows: rates, trends by group and wave, gaps by team."""
    return {
        "trust": {"code": organisation.code, "name": organisation.name},
        "study": {"code": board.study.code, "name": board.study.name},
        "min_group_size": board.min_group,
        "waves": [{"index": w.index, "label": w.label} for w in board.waves],
        "groups": [{"id": key, "label": label} for key, label in GROUP_LABELS.items()],
        "response_rates": [rate_json(r) for r in board.rates],
        "team_response_rates": [rate_json(r) for r in board.team_rates],
        "group_response_rates": [rate_json(r) for r in board.group_rates],
        "trends": [
            {"scale": scale, "group": group, "wave": wave, **cell_json(cell)}
            for scale, groups in board.trends.items()
            for group, by_wave in groups.items()
            for wave, cell in by_wave.items()
        ],
        "gap_wave": board.gap_wave,
        "gaps": [
            {"scale": scale, "team": team, "peer_workers": cell_json(peer),
             "colleagues": cell_json(colleague), "gap": gap}
            for scale, teams in board.gaps.items()
            for team, (peer, colleague, gap) in teams.items()
        ],
    }


def model_json(results: GrowthResults) -> str:
    """A fitted model as strict JSON text: the results' own JSON (NaN as null), as everywhere."""
    return results.to_json()
