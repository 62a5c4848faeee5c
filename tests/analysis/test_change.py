"""Reliable Change Index and team-level change, against R (reference/reference.R via `r_ref`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis import AnalysisError, reliable_change, team_change

# qnorm(0.975) in R: the Wald 95% interval's multiplier.
QNORM_975 = 1.959963984540054


def _two_waves(pre: list[float], post: list[float]) -> pd.DataFrame:
    ids = [f"P{i}" for i in range(len(pre))]
    return pd.DataFrame(
        {"participant": ids * 2, "wave": [1] * len(pre) + [2] * len(post), "score": pre + post}
    )


def test_rci_follows_jacobson_truax() -> None:
    # SD 1 and reliability 0.5 give S_diff = sqrt(2) * sqrt(0.5) = 1, so RCI = change.
    df = _two_waves([1.0, 2.0, 3.0], [3.5, 2.5, 0.5])
    out = reliable_change(df, reliability=0.5, wave_from=1, wave_to=2, sd_baseline=1.0)
    assert list(out["rci"]) == pytest.approx([2.5, 0.5, -2.5])
    assert list(out["category"]) == ["improved", "no reliable change", "deteriorated"]
    worse = reliable_change(df, 0.5, 1, 2, sd_baseline=1.0, higher_is_better=False)
    assert list(worse["category"]) == ["deteriorated", "no reliable change", "improved"]


def test_rci_uses_baseline_sd_and_pairs_only() -> None:
    df = _two_waves([1.0, 2.0, 3.0], [2.0, 2.0, 3.0]).iloc[:-1]  # P2 missed wave 2
    out = reliable_change(df, reliability=0.8, wave_from=1, wave_to=2)
    s_diff = np.sqrt(2.0) * 1.0 * np.sqrt(0.2)  # SD of 1, 2, 3 is 1
    assert list(out["participant"]) == ["P0", "P1"]
    assert out["rci"].iloc[0] == pytest.approx(1.0 / s_diff)


def test_rci_rejects_bad_input() -> None:
    df = _two_waves([1.0, 2.0], [2.0, 3.0])
    with pytest.raises(AnalysisError, match="reliability must be"):
        reliable_change(df, 1.2, 1, 2)
    with pytest.raises(AnalysisError, match="no scores at wave 3"):
        reliable_change(df, 0.8, 1, 3)
    twice = pd.concat([df, df])
    with pytest.raises(AnalysisError, match="more than one 'score'"):
        reliable_change(twice, 0.8, 1, 2)


def test_rci_matches_r(growth: pd.DataFrame, r_ref: dict[str, Any]) -> None:
    # Closed form: R computes the same RCI in base R, so it must agree to rtol 1e-8.
    alpha = r_ref["psych::alpha(w1)$total$raw_alpha"]
    expected = r_ref["rci <- (score_to - score_from) / (sqrt(2) * sd * sqrt(1 - raw_alpha))"]
    out = reliable_change(growth, alpha, wave_from=1, wave_to=2)
    assert list(out["participant"]) == list(expected)  # the 126 with both waves, in order
    assert_allclose(out["rci"], list(expected.values()), rtol=1e-8)
    baseline_sd = r_ref["sd(d$score[d$wave == 1])"]
    same = reliable_change(growth, alpha, 1, 2, sd_baseline=baseline_sd)
    assert_allclose(same["rci"], out["rci"], rtol=1e-8)


def test_team_change_matches_lme4(growth: pd.DataFrame, r_ref: dict[str, Any]) -> None:
    # m_teams <- lmer(score ~ months * team + (months | participant), REML = TRUE); each team's
    # change from month 0 to 12 is 12 x its slope. Iterative fit: rtol 1e-4, as for fixed effects.
    estimate = r_ref["contrast %*% fixef(m_teams)"]
    se = r_ref["sqrt(diag(contrast %*% vcov(m_teams) %*% t(contrast)))"]
    out = team_change(growth, 0.0, 12.0)
    assert list(out["team"]) == list(estimate) == list(se)  # T01 .. T15
    assert_allclose(out["estimate"], list(estimate.values()), rtol=1e-4)
    assert_allclose(out["se"], list(se.values()), rtol=1e-4)
    assert_allclose(out["ci_low"], out["estimate"] - QNORM_975 * out["se"], rtol=1e-12)
    assert_allclose(out["ci_high"], out["estimate"] + QNORM_975 * out["se"], rtol=1e-12)
