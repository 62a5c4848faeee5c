"""The fast engine: its gradient, and agreement with statsmodels on other data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis import AnalysisError, fit_growth
from analysis.fastlmm import SufficientStats, deviance_gradient, solve_pls


def _simulate(seed: int, n: int = 120, slope_sd: float = 0.05) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        b0, b1 = rng.normal(0, 0.5), rng.normal(0, slope_sd)
        group = "b" if i % 2 else "a"
        for t in (0.0, 1.5, 3.0, 4.5, 6.0):
            if t and rng.random() < 0.2:
                continue
            y = 2.0 + 0.1 * t + 0.2 * (group == "b") + b0 + b1 * t + rng.normal(0, 0.4)
            rows.append({"id": i, "t": t, "g": group, "y": y})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("reml", [True, False])
def test_gradient_matches_finite_differences(reml: bool) -> None:
    df = _simulate(1)
    x = np.column_stack([np.ones(len(df)), df["t"], df["g"] == "b"]).astype(float)
    z = np.column_stack([np.ones(len(df)), df["t"]])
    codes = pd.factorize(df["id"])[0]
    stats = SufficientStats.from_arrays(df["y"].to_numpy(), x, z, codes)
    theta = np.array([1.2, -0.1, 0.3])
    grad = deviance_gradient(stats, theta, solve_pls(stats, theta, reml), reml)
    h = 1e-6
    numeric = [
        (solve_pls(stats, theta + h * e, reml).deviance
         - solve_pls(stats, theta - h * e, reml).deviance) / (2 * h)
        for e in np.eye(3)
    ]
    assert_allclose(grad, numeric, rtol=1e-5)


@pytest.mark.parametrize("seed", [2, 3])
@pytest.mark.parametrize("method", ["REML", "ML"])
def test_fast_engine_agrees_with_statsmodels(seed: int, method: str) -> None:
    df = _simulate(seed)
    fast = fit_growth(df, "y", "t", "id", by="g", method=method, engine="fast")
    slow = fit_growth(df, "y", "t", "id", by="g", method=method, engine="statsmodels")
    assert fast.converged and slow.converged
    assert_allclose(fast.beta, slow.beta, rtol=1e-4)
    assert_allclose(fast.se, slow.se, rtol=1e-4)
    assert fast.loglik == pytest.approx(slow.loglik, abs=1e-3)
    assert fast.loglik >= slow.loglik - 1e-6  # the fast optimum is no worse


def test_no_slope_variance_is_flagged_as_singular() -> None:
    # Without slope variance in the data (seed 4) the optimum is on the boundary: Lambda's
    # second diagonal element is zero, the intercept and slope perfectly correlated.
    df = _simulate(4, slope_sd=0.0)
    res = fit_growth(df, "y", "t", "id", engine="fast")
    assert res.converged
    assert any("boundary (singular) fit" in w for w in res.warnings)
    assert abs(res.random_effects.subject_corr or 0.0) == pytest.approx(1.0, abs=1e-3)
    slow = fit_growth(df, "y", "t", "id", engine="statsmodels")
    assert res.loglik >= slow.loglik - 1e-6


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_team_level_agrees_with_statsmodels(method: str) -> None:
    df = _simulate(5).assign(team=lambda d: d["id"] % 6)
    fast = fit_growth(df, "y", "t", "id", group="team", method=method)
    slow = fit_growth(df, "y", "t", "id", group="team", method=method, engine="statsmodels")
    assert fast.engine == "fast" and slow.engine == "statsmodels"
    assert fast.converged and slow.converged
    assert_allclose(fast.beta, slow.beta, rtol=1e-5)
    assert_allclose(fast.se, slow.se, rtol=1e-3)
    assert fast.loglik == pytest.approx(slow.loglik, abs=1e-5)
    assert fast.loglik >= slow.loglik - 1e-8


def test_participants_who_move_team_are_fitted_with_each_occasions_team() -> None:
    df = _simulate(6).assign(team=lambda d: (d["id"] + (d["t"] > 3) * (d["id"] % 5 == 0)) % 6)
    res = fit_growth(df, "y", "t", "id", group="team")
    assert res.converged and res.n_groups == 6
    assert any("changed team" in w for w in res.warnings)
    with pytest.raises(AnalysisError, match="statsmodels engine needs each participant in one team"):
        fit_growth(df, "y", "t", "id", group="team", engine="statsmodels")
