"""Change between waves for researchers: reliable change per participant, change per team."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

# `analysis` loads its statistics on first use, so importing this module (and the app) stays light.
import analysis
from analysis import AnalysisError
from instruments import load_instrument
from survey.models import Role, Study
from survey.services import datasets

if TYPE_CHECKING:
    import pandas as pd


@dataclasses.dataclass
class GroupChange:
    """Reliable change of one role group, with the reliability it used."""

    role_group: str
    reliability: float
    table: pd.DataFrame  # participant, score_from, score_to, change, rci, category

    @property
    def counts(self) -> dict[str, int]:
        """How many improved, deteriorated, or did not change reliably."""
        counts = self.table["category"].value_counts()
        return {c: int(counts.get(c, 0)) for c in ("improved", "no reliable change", "deteriorated")}


@dataclasses.dataclass
class ChangeReport:
    """Everything the change page shows."""

    scale: str
    wave_from: int
    wave_to: int
    groups: list[GroupChange]
    teams: pd.DataFrame | None
    months: float
    notes: list[str]


def _alpha_at(db: Session, study: Study, role_group: str, scale: str, wave: int) -> float:
    """Cronbach's alpha of the scale in this group's instrument at a wave."""
    assignment = next(si for si in study.instruments if si.role == Role(role_group))
    instrument = load_instrument(assignment.instrument_id, assignment.instrument_version)
    if scale not in instrument.scales:
        raise AnalysisError(f"the {instrument.title.lower()} has no scale '{scale}'")
    items = datasets.item_answers(db, study, instrument.id, instrument.version, keyed=True)
    items = items[items["wave"] == wave]
    return analysis.cronbach_alpha(items[list(instrument.scales[scale].items)]).alpha


def build(db: Session, study: Study, scale: str, wave_from: int, wave_to: int) -> ChangeReport:
    """Reliable change (Jacobson–Truax) per role group and model-based change per team."""
    if wave_from >= wave_to:
        raise AnalysisError("choose a later wave to compare with")
    long = datasets.long_scores(db, study, scale).dropna(subset=["score"])
    groups, notes = [], []
    for role_group, part in long.groupby("role_group", sort=True):
        try:
            alpha = _alpha_at(db, study, str(role_group), scale, wave_from)
            table = analysis.reliable_change(part, alpha, wave_from, wave_to)
        except AnalysisError as exc:
            notes.append(f"{str(role_group).replace('_', ' ')}s: {exc}")
            continue
        groups.append(GroupChange(str(role_group), alpha, table))
    window = long[long["wave"].isin([wave_from, wave_to])]
    times = window.groupby("wave")["months"].median()
    months = float(times.get(wave_to, 0.0) - times.get(wave_from, 0.0))
    teams = None
    try:
        teams = analysis.team_change(long, float(times.get(wave_from, 0.0)), float(times.get(wave_to, 0.0)))
    except AnalysisError as exc:
        notes.append(f"teams: {exc}")
    return ChangeReport(scale, wave_from, wave_to, groups, teams, months, notes)
