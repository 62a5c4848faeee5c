"""Change: the Reliable Change Index per participant and team-level change from a model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.contract import label
from analysis.datasets import numeric_column, require_columns, source_of
from analysis.errors import AnalysisError
from analysis.growth import fit_growth

#: |RCI| above this is change beyond measurement error at the 5% level (Jacobson & Truax 1991).
RCI_CRITICAL = 1.96


def reliable_change(
    df: pd.DataFrame,
    reliability: float,
    wave_from: object,
    wave_to: object,
    subject: str = "participant",
    wave: str = "wave",
    score: str = "score",
    sd_baseline: float | None = None,
    higher_is_better: bool = True,
) -> pd.DataFrame:
    """Return each participant's Jacobson-Truax RCI between two waves.

    ``RCI = (x_to - x_from) / S_diff`` with ``S_diff = sqrt(2) * SD * sqrt(1 - reliability)``,
    where SD is ``sd_baseline`` or else the SD of the scores at ``wave_from``. Participants
    without a score at both waves are left out. ``category`` is "improved", "deteriorated"
    or "no reliable change" at |RCI| > 1.96.
    """
    if not 0.0 <= reliability < 1.0:
        raise AnalysisError(f"reliability must be in [0, 1), not {reliability!r}")
    require_columns(df, [subject, wave, score])
    scores = df[[subject, wave]].assign(**{score: numeric_column(df, score)})
    at = {w: scores.loc[scores[wave] == w].dropna() for w in (wave_from, wave_to)}
    for w, part in at.items():
        if part.empty:
            raise AnalysisError(f"{source_of(df)}: no scores at {wave} {label(w)}")
        if part[subject].duplicated().any():
            who = part.loc[part[subject].duplicated(), subject].iloc[0]
            raise AnalysisError(
                f"{source_of(df)}: {subject} {label(who)} has more than one {score!r} at {wave} "
                f"{label(w)}; select one scale first"
            )
    sd = float(at[wave_from][score].std(ddof=1)) if sd_baseline is None else sd_baseline
    if not np.isfinite(sd) or sd <= 0:
        raise AnalysisError("the baseline SD must be positive; give sd_baseline or more data")
    pairs = at[wave_from].merge(at[wave_to], on=subject, suffixes=("_from", "_to"))
    s_diff = np.sqrt(2.0) * sd * np.sqrt(1.0 - reliability)
    change = pairs[f"{score}_to"] - pairs[f"{score}_from"]
    rci = change / s_diff
    better = rci if higher_is_better else -rci
    category = np.select(
        [better > RCI_CRITICAL, better < -RCI_CRITICAL],
        ["improved", "deteriorated"],
        "no reliable change",
    )
    return pd.DataFrame(
        {
            subject: pairs[subject],
            "score_from": pairs[f"{score}_from"],
            "score_to": pairs[f"{score}_to"],
            "change": change,
            "rci": rci,
            "category": category,
        }
    )


def team_change(
    df: pd.DataFrame,
    time_from: float,
    time_to: float,
    outcome: str = "score",
    time: str = "months",
    subject: str = "participant",
    team: str = "team",
    method: str = "REML",
) -> pd.DataFrame:
    """Return each team's estimated change in ``outcome`` from ``time_from`` to ``time_to``.

    The model is ``outcome ~ time * team`` with random intercept and slope per participant;
    the change of a team is its slope times the interval, with a Wald 95% CI.
    """
    results = fit_growth(df, outcome, time, subject, by=team, method=method)
    results.require_convergence()
    return results.change_by_level(time_from, time_to)
