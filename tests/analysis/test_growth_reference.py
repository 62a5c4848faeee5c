"""Growth models against lme4 1.1-31 on tests/analysis/reference/growth.csv.

Every number comes from reference/reference.R, read from the reference.json it writes (the
`r_ref` fixture; each key is the R call that printed the number, also in reference.out).
Tolerances (issue 6): fixed effects and SEs within relative 1e-4; random-effect and residual
SDs within 1e-3; log-likelihood within 1e-3.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis import GrowthResults, fit_growth, likelihood_ratio_test

# lme4's names of the terms, and the package's names for the same terms.
LME4_TERMS = ["(Intercept)", "months", "rolepeer_worker", "months:rolepeer_worker"]
TERMS = ["Intercept", "months", "role[T.peer_worker]", "months:role[T.peer_worker]"]

# The R models behind each test, as fitted in reference.R:
# m_reml <- lmer(score ~ months * role + (months | participant), REML = TRUE)
# m_ml   <- lmer(score ~ months * role + (months | participant), REML = FALSE)
TWO_LEVEL = {"REML": "m_reml", "ML": "m_ml"}
# m_team_reml <- lmer(score ~ months * role + (1 | team) + (1 | participant) +
#                     (0 + months | participant), REML = TRUE); m_team_ml: REML = FALSE
TEAM = {"REML": "m_team_reml", "ML": "m_team_ml"}


def _varcorr(r_ref: dict[str, Any], model: str) -> dict[tuple[str, str | None, str | None], dict[str, float]]:
    """Return as.data.frame(VarCorr(model)) rows keyed by (grp, var1, var2)."""
    return {(row["grp"], row.get("var1"), row.get("var2")): row
            for row in r_ref[f"as.data.frame(VarCorr({model}))"]}


def _fit(df: pd.DataFrame, method: str, engine: str, group: str | None = None) -> GrowthResults:
    res = fit_growth(df, "score", "months", "participant", group=group, by="role",
                     method=method, engine=engine)
    assert res.converged, res.optimizer
    return res


def _check_fixed(res: GrowthResults, r_ref: dict[str, Any], model: str) -> None:
    fe = res.fixed_effects.loc[TERMS]
    fixef = r_ref[f"fixef({model})"]
    se = r_ref[f"sqrt(diag(vcov({model})))"]
    assert_allclose(fe["estimate"], [fixef[t] for t in LME4_TERMS], rtol=1e-4)
    assert_allclose(fe["se"], [se[t] for t in LME4_TERMS], rtol=1e-4)


@pytest.mark.parametrize("engine", ["fast", "statsmodels"])
@pytest.mark.parametrize("method", ["REML", "ML"])
def test_two_level_model_matches_lme4(growth: pd.DataFrame, r_ref: dict[str, Any], method: str,
                                      engine: str) -> None:
    model = TWO_LEVEL[method]
    res = _fit(growth, method, engine)
    assert res.engine == engine
    _check_fixed(res, r_ref, model)
    vc = _varcorr(r_ref, model)
    re = res.random_effects
    assert_allclose([re.subject_sd["Intercept"], re.subject_sd["months"]],
                    [vc["participant", "(Intercept)", None]["sdcor"],
                     vc["participant", "months", None]["sdcor"]], rtol=1e-3)
    assert re.subject_corr == pytest.approx(vc["participant", "(Intercept)", "months"]["sdcor"], abs=1e-3)
    assert res.residual_sd == pytest.approx(vc["Residual", None, None]["sdcor"], rel=1e-3)
    assert res.loglik == pytest.approx(r_ref[f"logLik({model})"], abs=1e-3)
    assert_allclose([res.aic, res.bic], r_ref[f"c(AIC({model}), BIC({model}))"], atol=2e-3)
    assert (res.n_obs, res.n_subjects, res.n_groups) == (661, 150, None)


@pytest.mark.parametrize("engine", ["auto", "statsmodels"])
@pytest.mark.parametrize("method", ["REML", "ML"])
def test_team_level_model_matches_lme4(growth: pd.DataFrame, r_ref: dict[str, Any], method: str,
                                       engine: str) -> None:
    model = TEAM[method]
    res = _fit(growth, method, engine, group="team")
    assert res.engine == ("fast" if engine == "auto" else "statsmodels")
    _check_fixed(res, r_ref, model)
    vc = _varcorr(r_ref, model)
    re = res.random_effects
    # lme4 names the independent intercept term participant.1
    assert_allclose([re.subject_sd["Intercept"], re.subject_sd["months"]],
                    [vc["participant.1", "(Intercept)", None]["sdcor"],
                     vc["participant", "months", None]["sdcor"]], rtol=1e-3)
    assert re.subject_corr is None
    assert re.group_sd == pytest.approx(vc["team", "(Intercept)", None]["sdcor"], rel=1e-3)
    assert res.residual_sd == pytest.approx(vc["Residual", None, None]["sdcor"], rel=1e-3)
    assert res.loglik == pytest.approx(r_ref[f"logLik({model})"], abs=1e-3)
    assert res.n_groups == 15


def test_likelihood_ratio_test_matches_anova(growth: pd.DataFrame, r_ref: dict[str, Any]) -> None:
    restricted = fit_growth(growth, "score", "months", "participant", method="ML")
    full = fit_growth(growth, "score", "months", "participant", by="role", method="ML")
    # m_ml0 <- lmer(score ~ months + (months | participant), REML = FALSE)
    assert restricted.loglik == pytest.approx(r_ref["logLik(m_ml0)"], abs=1e-3)
    lrt = likelihood_ratio_test(restricted, full)
    anova = r_ref["anova(m_ml0, m_ml)[2, c('Chisq', 'Df', 'Pr(>Chisq)')]"]
    assert lrt.statistic == pytest.approx(anova["Chisq"], abs=2e-3)
    assert lrt.df == anova["Df"] == 2
    assert lrt.p == pytest.approx(anova["Pr(>Chisq)"], rel=1e-3)


def test_icc_is_intercept_share_of_variance(growth: pd.DataFrame, r_ref: dict[str, Any]) -> None:
    res = _fit(growth, "REML", "fast")
    vc = _varcorr(r_ref, "m_reml")
    intercept, residual = vc["participant", "(Intercept)", None]["vcov"], vc["Residual", None, None]["vcov"]
    assert res.icc["subject"] == pytest.approx(intercept / (intercept + residual), rel=1e-3)
