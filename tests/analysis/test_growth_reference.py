"""Growth models against lme4 1.1-31 on tests/analysis/reference/growth.csv.

Every constant comes from reference/reference.R (its output is in reference.out); the
R call that printed it is beside it. Tolerances (issue 6): fixed effects and SEs within
relative 1e-4; random-effect and residual SDs within 1e-3; log-likelihood within 1e-3.
"""

from __future__ import annotations

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis import GrowthResults, fit_growth, likelihood_ratio_test

# lme4 orders the terms (Intercept), months, rolepeer_worker, months:rolepeer_worker.
TERMS = ["Intercept", "months", "role[T.peer_worker]", "months:role[T.peer_worker]"]

LME4 = {
    # m_reml <- lmer(score ~ months * role + (months | participant), REML = TRUE)
    "REML": {
        # fixef(m_reml)
        "fixef": [3.1646156804021, 0.0173274415280, -0.3499127326692, 0.0307383388382],
        # sqrt(diag(vcov(m_reml)))
        "se": [0.08015978147884, 0.00611390331672, 0.12158792591918, 0.00924687591265],
        # as.data.frame(VarCorr(m_reml))$sdcor: intercept, slope, corr, residual
        "sd": [0.6790109133955, 0.0391236211848],
        "corr": -0.4692252503731,
        "sigma": 0.3592169883655,
        # logLik(m_reml)
        "loglik": -515.02262899,
        # c(AIC(m_reml), BIC(m_reml))
        "aic_bic": [1046.04525798, 1081.99528870],
    },
    # m_ml <- lmer(score ~ months * role + (months | participant), REML = FALSE)
    "ML": {
        # fixef(m_ml)
        "fixef": [3.1646020779047, 0.0173208222987, -0.3498935400174, 0.0307505753706],
        # sqrt(diag(vcov(m_ml)))
        "se": [0.07962799576862, 0.00607242112458, 0.12077903318346, 0.00918381408030],
        # as.data.frame(VarCorr(m_ml))$sdcor
        "sd": [0.6736833428836, 0.0385832089496],
        "corr": -0.4683686713642,
        "sigma": 0.3592049155348,
        # logLik(m_ml)
        "loglik": -503.377974407,
        # c(AIC(m_ml), BIC(m_ml))
        "aic_bic": [1022.75594881, 1058.70597953],
    },
}

LME4_TEAM = {
    # m_team_reml <- lmer(score ~ months * role + (1 | team) + (1 | participant) +
    #                     (0 + months | participant), REML = TRUE)
    "REML": {
        # fixef(m_team_reml)
        "fixef": [3.1812890467677, 0.0175454993242, -0.3526182964322, 0.0304828858048],
        # sqrt(diag(vcov(m_team_reml)))
        "se": [0.10131743735109, 0.00567359720417, 0.10551827650945, 0.00857292706507],
        # as.data.frame(VarCorr(m_team_reml))$sdcor: participant intercept, slope; team
        "sd": [0.548486079568, 0.031352617575],
        "team_sd": 0.285265281807,
        "sigma": 0.371333984208,
        # logLik(m_team_reml)
        "loglik": -516.097672813,
    },
    # m_team_ml <- update(m_team_reml, REML = FALSE)
    "ML": {
        # fixef(m_team_ml)
        "fixef": [3.1810676796841, 0.0175377139137, -0.3528486488315, 0.0305003478250],
        # sqrt(diag(vcov(m_team_ml)))
        "se": [0.09828560910938, 0.00563472645622, 0.10507096443072, 0.00851381012082],
        # as.data.frame(VarCorr(m_team_ml))$sdcor
        "sd": [0.5460434075144, 0.0307427033284],
        "team_sd": 0.2699965274852,
        "sigma": 0.3715007212856,
        # logLik(m_team_ml)
        "loglik": -504.812561506,
    },
}


def _fit(df: pd.DataFrame, method: str, engine: str, group: str | None = None) -> GrowthResults:
    res = fit_growth(df, "score", "months", "participant", group=group, by="role",
                     method=method, engine=engine)
    assert res.converged, res.optimizer
    return res


def _check_fixed(res: GrowthResults, ref: dict) -> None:
    fe = res.fixed_effects.loc[TERMS]
    assert_allclose(fe["estimate"], ref["fixef"], rtol=1e-4)
    assert_allclose(fe["se"], ref["se"], rtol=1e-4)


@pytest.mark.parametrize("engine", ["fast", "statsmodels"])
@pytest.mark.parametrize("method", ["REML", "ML"])
def test_two_level_model_matches_lme4(growth: pd.DataFrame, method: str, engine: str) -> None:
    ref = LME4[method]
    res = _fit(growth, method, engine)
    assert res.engine == engine
    _check_fixed(res, ref)
    re = res.random_effects
    assert_allclose([re.subject_sd["Intercept"], re.subject_sd["months"]], ref["sd"], rtol=1e-3)
    assert re.subject_corr == pytest.approx(ref["corr"], abs=1e-3)
    assert res.residual_sd == pytest.approx(ref["sigma"], rel=1e-3)
    assert res.loglik == pytest.approx(ref["loglik"], abs=1e-3)
    assert_allclose([res.aic, res.bic], ref["aic_bic"], atol=2e-3)
    assert (res.n_obs, res.n_subjects, res.n_groups) == (661, 150, None)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_team_level_model_matches_lme4(growth: pd.DataFrame, method: str) -> None:
    ref = LME4_TEAM[method]
    res = _fit(growth, method, "auto", group="team")
    assert res.engine == "statsmodels"
    _check_fixed(res, ref)
    re = res.random_effects
    assert_allclose([re.subject_sd["Intercept"], re.subject_sd["months"]], ref["sd"], rtol=1e-3)
    assert re.subject_corr is None
    assert re.group_sd == pytest.approx(ref["team_sd"], rel=1e-3)
    assert res.residual_sd == pytest.approx(ref["sigma"], rel=1e-3)
    assert res.loglik == pytest.approx(ref["loglik"], abs=1e-3)
    assert res.n_groups == 15


def test_likelihood_ratio_test_matches_anova(growth: pd.DataFrame) -> None:
    restricted = fit_growth(growth, "score", "months", "participant", method="ML")
    full = fit_growth(growth, "score", "months", "participant", by="role", method="ML")
    # logLik(m_ml0), m_ml0 <- lmer(score ~ months + (months | participant), REML = FALSE)
    assert restricted.loglik == pytest.approx(-509.611801029, abs=1e-3)
    lrt = likelihood_ratio_test(restricted, full)
    # anova(m_ml0, m_ml): Chisq 12.46765, Df 2, Pr(>Chisq) 0.0019619
    assert lrt.statistic == pytest.approx(12.46765, abs=2e-3)
    assert lrt.df == 2
    assert lrt.p == pytest.approx(0.0019619, rel=1e-3)


def test_icc_is_intercept_share_of_variance(growth: pd.DataFrame) -> None:
    res = _fit(growth, "REML", "fast")
    # as.data.frame(VarCorr(m_reml))$vcov: 0.46105582051013 (intercept), 0.12903684473035
    assert res.icc["subject"] == pytest.approx(0.46105582 / (0.46105582 + 0.12903684), rel=1e-3)
