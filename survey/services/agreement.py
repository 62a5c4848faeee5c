"""Is it really a team score? ICC(1), ICC(2) and rwg(j) of each scale per wave, across teams.

The statistics are analysis.agreement's (equal to R's multilevel: ``ICC1``, ``ICC2``,
``rwg.j``), the same as ``python -m analysis agreement``. Only teams with at least the minimum
group size of people who answered every item of the scale take part, so that no figure is
about fewer people than that (a team's rwg(j) is a figure about the team); the result says how
many teams were left out. The null variance is that of answers spread evenly over the scale's
answer options, (A^2 - 1) / 12.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy.orm import Session

from analysis import AnalysisError
from instruments.model import Instrument, Scale
from survey.models import Study
from survey.services import datasets

if TYPE_CHECKING:
    from analysis.agreement import AgreementResults


class WaveAgreement(NamedTuple):
    """One scale at one wave: the results, or why there are none, and teams left out."""

    wave: int
    results: AgreementResults | None
    error: str
    teams_left_out: int


class ScaleAgreement(NamedTuple):
    """One scale of one instrument version, with a row per wave."""

    instrument: Instrument
    scale: Scale
    waves: list[WaveAgreement]


def study_agreement(db: Session, study: Study, min_group_size: int) -> list[ScaleAgreement]:
    """Agreement within teams for every scale of the study, wave by wave."""
    from analysis.agreement import team_agreement, uniform_null_variance

    tables = []
    for instrument, scale, answers, items in datasets.scale_answers(db, study):
        # a scale's items are rated on the instrument's response options
        ranvar = uniform_null_variance(len(instrument.values))
        waves = []
        for wave, part in answers.groupby("wave", sort=True):
            complete = part.dropna(subset=[*items, "team"])
            sizes = complete["team"].value_counts()
            small = sizes[sizes < max(min_group_size, 2)].index
            kept = complete[~complete["team"].isin(small)]
            if kept.empty:
                waves.append(WaveAgreement(int(wave), None, (
                    f"no team has at least {min_group_size} people who answered every "
                    "item of the scale at this wave"), len(small)))
                continue
            try:
                results = team_agreement(kept, items, "team", ranvar=ranvar)
                waves.append(WaveAgreement(int(wave), results, "", len(small)))
            except AnalysisError as exc:
                waves.append(WaveAgreement(int(wave), None, str(exc), len(small)))
        tables.append(ScaleAgreement(instrument, scale, waves))
    return tables


def agreement_json(tables: list[ScaleAgreement]) -> list[dict[str, object]]:
    """The agreement of every scale as the API answers it (the page shows the same numbers)."""
    from analysis.results import json_safe

    out = []
    for instrument, scale, waves in tables:
        rows = []
        for w in waves:
            row: dict[str, object] = {"wave": w.wave, "teams_left_out": w.teams_left_out,
                                      "error": w.error}
            row.update(w.results.to_dict() if w.results is not None else {})
            rows.append(row)
        out.append({"instrument": instrument.id, "version": instrument.version,
                    "scale": scale.id, "waves": rows})
    return list(json_safe(out))
