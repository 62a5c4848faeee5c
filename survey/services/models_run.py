"""Fitting a growth model on a study's data: the one place the web page and its downloads share."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

# `analysis` loads its statistics on first use, so importing this module (and the app) stays light.
import analysis
from analysis import AnalysisError
from survey.models import Study
from survey.services import datasets

if TYPE_CHECKING:
    from analysis import GrowthResults


@dataclasses.dataclass(frozen=True)
class ModelChoice:
    """What the researcher chose."""

    scale: str
    by: str | None
    team_level: bool
    method: str

    def as_query(self) -> dict[str, str]:
        """The choice as URL query arguments."""
        query = {"scale": self.scale, "by": self.by or "", "method": self.method}
        if self.team_level:
            query["team_level"] = "y"
        return query


def fit_study_model(db: Session, study: Study, choice: ModelChoice) -> GrowthResults:
    """Fit score ~ months [× by] with random intercept and slope per participant."""
    data = datasets.long_scores(db, study, choice.scale).dropna(subset=["score"])
    if data.empty:
        raise AnalysisError(f"there are no scores for the scale '{choice.scale}' yet")
    return analysis.fit_growth(
        data, outcome="score", time="months", subject="participant",
        group="team" if choice.team_level else None, by=choice.by or None, method=choice.method,
    )
