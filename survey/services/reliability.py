"""Reliability of a study's scales: Cronbach's alpha (Feldt CI) and omega per wave and role."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy.orm import Session

# `analysis` loads its statistics on first use, so importing this module (and the app) stays light.
import analysis
from analysis import AnalysisError
from instruments.model import Instrument, Scale
from survey.models import Study
from survey.services import datasets

MIN_ITEMS = 3  # alpha and omega of fewer items say little


class ScaleReliability(NamedTuple):
    """One scale of one instrument version, with a row per (wave, role) that answered it."""

    instrument: Instrument
    scale: Scale
    rows: list[dict[str, Any]]


def study_reliability(db: Session, study: Study) -> list[ScaleReliability]:
    """Every scale of the study's instruments; a group that cannot be computed says why."""
    tables = []
    for instrument, scale, answers, items in datasets.scale_answers(db, study, MIN_ITEMS):
        rows = []
        for (wave, role), part in answers.groupby(["wave", "role"], sort=True):
            try:
                row = analysis.reliability_table(part, items).iloc[0].to_dict()
            except AnalysisError as exc:
                row = {"n": len(part), "error": str(exc)}
            rows.append({"wave": wave, "role": role, **row})
        tables.append(ScaleReliability(instrument, scale, rows))
    return tables
