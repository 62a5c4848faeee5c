"""The fast engine and the checked statsmodels engine against lme4 on public data sets.

Data shipped with R packages, written by reference/public/make_public.R (its output, with
every number below, is reference/public/public.out): nlme's BodyWeight (16 rats, 11 occasions,
time in days up to 64), mlmRev's egsingle (7,230 maths scores of 1,721 children in 60 schools
over up to 6 years) and mlmRev's star (24,613 maths scores of 10,767 pupils in 80 schools over
up to 4 years; 367 pupils change school, so the school is that of each occasion). lme4 fitted
with lmerControl(optimizer = "bobyqa"). R is not needed to run these tests.

Tolerances: fixed effects within relative 1e-6; SEs, SDs within 1e-5 relative and correlations
within 1e-5 (the likelihood is flat there: lme4 stops within that of the optimum); the
log-likelihood within 1e-6, and never below lme4's by more than 1e-8.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis import AnalysisError, GrowthResults, fit_growth
from analysis.fastlmm import Term, check_optimum, fit_terms

DATA = Path(__file__).parent / "reference" / "public"

# Each entry: (fixef, se, {sd name: sdcor}, logLik), printed by show() in make_public.R.
LME4: dict[tuple[str, str], Any] = {
    # lmer(weight ~ Time * Diet + (Time | Rat), bw, REML = TRUE)
    ("bodyweight days", "REML"): (
        [251.651651562, 0.359639113343, 200.66548646, 252.071677768, 0.605839157021, 0.298337519109],
        [13.0940222325, 0.0911397416073, 22.6795117822, 22.6795117822, 0.157858663052, 0.157858663052],
        {"Intercept": 36.9390648519, "time": 0.248411320746, "corr": -0.149075437441,
         "Residual": 4.44360543567},
        -575.859874410016),
    # lmer(weight ~ Time * Diet + (Time | Rat), bw, REML = FALSE)
    ("bodyweight days", "ML"): (
        [251.651651561, 0.359639113344, 200.66548646, 252.071677768, 0.605839157021, 0.298337519109],
        [11.8027349172, 0.0821522508517, 20.4429365448, 20.4429365448, 0.142291872431, 0.142291872431],
        {"Intercept": 33.2761712235, "time": 0.221920026186, "corr": -0.146463506947,
         "Residual": 4.44360768889},
        -582.929079965717),
    # bw$weeks <- bw$Time / 7; lmer(weight ~ weeks * Diet + (weeks | Rat), bw, REML = TRUE)
    ("bodyweight weeks", "REML"): (
        [251.651651561, 2.51747379341, 200.66548646, 252.071677768, 4.24087409915, 2.08836263376],
        [13.0940282367, 0.63797820945, 22.6795221817, 22.6795221817, 1.10501067289, 1.10501067289],
        {"Intercept": 36.9390818918, "time": 1.73887930766, "corr": -0.149073794816,
         "Residual": 4.44360513572},
        -570.022143962828),
    # lmer(math ~ year + (1 | schoolid) + (1 | childid) + (0 + year | childid), eg, REML = TRUE)
    ("egsingle", "REML"): (
        [-0.776989434085, 0.747209679304], [0.060060249977, 0.00646540208075],
        {"Intercept": 0.815922204529, "time": 0.153330493989, "team": 0.424105164249,
         "Residual": 0.545830022942},
        -8300.728238262853),
    # lmer(math ~ year + (1 | schoolid) + (1 | childid) + (0 + year | childid), eg, REML = FALSE)
    ("egsingle", "ML"): (
        [-0.777119273341, 0.747215668162], [0.0595622987516, 0.00646331162004],
        {"Intercept": 0.815920601955, "time": 0.153205239276, "team": 0.41992206719,
         "Residual": 0.545825258376},
        -8294.707796386014),
    # lmer(math ~ yrs + (1 | sch) + (1 | id) + (0 + yrs | id), st, REML = TRUE)
    ("star", "REML"): (
        [485.544635788, 42.8094685422], [1.70001021898, 0.184952334441],
        {"Intercept": 31.8336506776, "time": 5.20796609782, "team": 14.6535243414,
         "Residual": 25.4649460283},
        -123067.457835054141),
    # lmer(math ~ yrs + (1 | sch) + (1 | id) + (0 + yrs | id), st, REML = FALSE)
    ("star", "ML"): (
        [485.544083796, 42.8097071229], [1.68960913623, 0.18494070493],
        {"Intercept": 31.8340149789, "time": 5.20604927542, "team": 14.5569964156,
         "Residual": 25.4646900568},
        -123068.125596789658),
}


@pytest.fixture(scope="module")
def bodyweight() -> pd.DataFrame:
    df = pd.read_csv(DATA / "bodyweight.csv")
    return df.assign(weeks=df["Time"] / 7)


@pytest.fixture(scope="module")
def egsingle() -> pd.DataFrame:
    return pd.read_csv(DATA / "egsingle.csv.gz")


@pytest.fixture(scope="module")
def star() -> pd.DataFrame:
    return pd.read_csv(DATA / "star.csv.gz")


# patsy's order of BodyWeight's terms, and where each is in lme4's (Intercept, Time, Diet2,
# Diet3, Time:Diet2, Time:Diet3).
PATSY_TERMS = ["Intercept", "Diet[T.2]", "Diet[T.3]", "{t}", "{t}:Diet[T.2]", "{t}:Diet[T.3]"]
FROM_LME4 = [0, 2, 3, 1, 4, 5]


def _check(res: GrowthResults, key: tuple[str, str], time: str) -> None:
    fixef, se, sd, loglik = LME4[key]
    assert res.converged, res.optimizer
    if len(fixef) == 6:
        assert res.term_names == [name.format(t=time) for name in PATSY_TERMS]
        fixef, se = np.take(fixef, FROM_LME4), np.take(se, FROM_LME4)
    assert_allclose(res.beta, fixef, rtol=1e-6)
    assert_allclose(res.se, se, rtol=1e-5)
    re = res.random_effects
    assert re.subject_sd["Intercept"] == pytest.approx(sd["Intercept"], rel=1e-5)
    assert re.subject_sd[time] == pytest.approx(sd["time"], rel=1e-5)
    assert res.residual_sd == pytest.approx(sd["Residual"], rel=1e-5)
    if "corr" in sd:
        assert re.subject_corr == pytest.approx(sd["corr"], abs=1e-5)
    if "team" in sd:
        assert re.subject_corr is None
        assert re.group_sd == pytest.approx(sd["team"], rel=1e-5)
    assert res.loglik == pytest.approx(loglik, abs=1e-6)
    assert res.loglik >= loglik - 1e-8


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_bodyweight_in_days_matches_lme4(bodyweight: pd.DataFrame, method: str) -> None:
    res = fit_growth(bodyweight, "weight", "Time", "Rat", by="Diet", method=method)
    assert res.engine == "fast"
    _check(res, ("bodyweight days", method), "Time")


def test_days_and_weeks_give_the_same_fit(bodyweight: pd.DataFrame) -> None:
    days = fit_growth(bodyweight, "weight", "Time", "Rat", by="Diet")
    weeks = fit_growth(bodyweight, "weight", "weeks", "Rat", by="Diet")
    _check(weeks, ("bodyweight weeks", "REML"), "weeks")
    per_week = np.array([1, 1, 1, 7, 7, 7])  # time and its interactions: per week = 7 x per day
    assert_allclose(weeks.beta, days.beta * per_week, rtol=1e-7)
    assert_allclose(weeks.se, days.se * per_week, rtol=1e-5)
    assert weeks.random_effects.subject_sd["weeks"] == pytest.approx(
        7 * days.random_effects.subject_sd["Time"], rel=1e-5)
    assert weeks.random_effects.subject_corr == pytest.approx(
        days.random_effects.subject_corr, abs=1e-5)
    # REML's criterion has log|X'V^-1 X|: three columns 7 times smaller add 3 log 7.
    assert weeks.loglik - days.loglik == pytest.approx(3 * np.log(7), abs=1e-7)
    ml_days = fit_growth(bodyweight, "weight", "Time", "Rat", by="Diet", method="ML")
    ml_weeks = fit_growth(bodyweight, "weight", "weeks", "Rat", by="Diet", method="ML")
    assert ml_weeks.loglik == pytest.approx(ml_days.loglik, abs=1e-7)


@pytest.mark.parametrize("time", ["Time", "weeks"])
def test_statsmodels_engine_reports_only_the_optimum(bodyweight: pd.DataFrame, time: str) -> None:
    # With time in days MixedLM stops 45.7 below the optimum and says it converged; the check
    # catches that, the refit with time rescaled reaches the optimum, and that is reported.
    res = fit_growth(bodyweight, "weight", time, "Rat", by="Diet", engine="statsmodels")
    assert res.engine == "statsmodels" and res.converged
    assert res.loglik == pytest.approx(LME4["bodyweight days" if time == "Time" else
                                           "bodyweight weeks", "REML"][3], abs=1e-6)
    fixef = LME4["bodyweight days" if time == "Time" else "bodyweight weeks", "REML"][0]
    assert_allclose(res.beta, np.take(fixef, FROM_LME4), rtol=1e-6)
    assert any("rescaled" in w or "divided by" in w for w in res.warnings) == (time == "Time")


def test_statsmodels_engine_refuses_a_fit_short_of_the_optimum(bodyweight: pd.DataFrame) -> None:
    # Two iterations cannot reach the optimum: refused in words, never reported as converged.
    with pytest.raises(AnalysisError, match=r"did not reach the optimum.*default engine"):
        fit_growth(bodyweight, "weight", "Time", "Rat", by="Diet", engine="statsmodels",
                   max_iter=2)


def test_the_optimum_check_tells_the_optimum_from_a_false_one(bodyweight: pd.DataFrame) -> None:
    y = bodyweight["weight"].to_numpy(float)
    diet = pd.get_dummies(bodyweight["Diet"]).to_numpy(float)[:, 1:]
    t = bodyweight["Time"].to_numpy(float)
    x = np.column_stack([np.ones(len(y)), t, diet, diet * t[:, None]])
    terms = [Term(pd.factorize(bodyweight["Rat"])[0], x[:, :2])]
    _, _, sd, _ = LME4["bodyweight days", "REML"]
    cov = np.array([[sd["Intercept"] ** 2, sd["corr"] * sd["Intercept"] * sd["time"]],
                    [sd["corr"] * sd["Intercept"] * sd["time"], sd["time"] ** 2]])
    ok, deviance, gain = check_optimum(y, x, terms, [cov], sd["Residual"] ** 2, reml=True)
    assert ok and 0 <= gain < 1e-7 and -deviance / 2 == pytest.approx(LME4["bodyweight days", "REML"][3], abs=1e-6)
    # The slope SD 54 times too large, as MixedLM reported with time in days.
    wrong = cov * np.outer([1, 54], [1, 54])
    ok, deviance, _ = check_optimum(y, x, terms, [wrong], sd["Residual"] ** 2, reml=True)
    assert not ok and -deviance / 2 < LME4["bodyweight days", "REML"][3] - 10


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_three_levels_egsingle_matches_lme4(egsingle: pd.DataFrame, method: str) -> None:
    res = fit_growth(egsingle, "math", "year", "childid", group="schoolid", method=method)
    # c(nrow(eg), nlevels(eg$childid), nlevels(eg$schoolid)): 7230 1721 60
    assert res.engine == "fast"
    assert (res.n_obs, res.n_subjects, res.n_groups) == (7230, 1721, 60)
    _check(res, ("egsingle", method), "year")


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_pupils_who_change_school_star_matches_lme4(star: pd.DataFrame, method: str) -> None:
    res = fit_growth(star, "math", "yrs", "id", group="sch", method=method)
    # c(nrow(st), nlevels(st$id), nlevels(st$sch)) in make_public.R: 24613 10767 80
    assert (res.n_obs, res.n_subjects, res.n_groups) == (24613, 10767, 80)
    assert any("367 participant(s) changed sch" in w for w in res.warnings)
    _check(res, ("star", method), "yrs")


def test_statsmodels_engine_refuses_people_who_change_team(star: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match=r"statsmodels engine needs each participant in one "
                                            r"team.*367 participant.*default engine"):
        fit_growth(star, "math", "yrs", "id", group="sch", engine="statsmodels")


def _fit_terms(df: pd.DataFrame, y: str, t: str, subject: str, team: str, team_slope: bool,
               reml: bool) -> Any:
    x = np.column_stack([np.ones(len(df)), df[t].to_numpy(float)])
    team_z = x if team_slope else x[:, :1]
    return fit_terms(df[y].to_numpy(float), x, [
        Term(pd.factorize(df[team])[0], team_z), Term(pd.factorize(df[subject])[0], x)], reml=reml)


def _sd_corr(cov: np.ndarray) -> list[float]:
    sd = np.sqrt(np.diag(cov))
    return [*sd, *([cov[0, 1] / (sd[0] * sd[1])] if len(sd) == 2 else [])]


def test_correlated_terms_egsingle_match_lme4(egsingle: pd.DataFrame) -> None:
    # lmer(math ~ year + (year | schoolid) + (year | childid), eg, REML = TRUE)
    fit = _fit_terms(egsingle, "math", "year", "childid", "schoolid", True, reml=True)
    assert fit.converged, fit.message
    assert_allclose(fit.beta, [-0.779160117035, 0.763124604055], rtol=1e-6)
    assert_allclose(np.sqrt(np.diag(fit.vcov)), [0.0583017720103, 0.0153992508748], rtol=1e-5)
    school, child = fit.cov_re
    assert_allclose(_sd_corr(school), [0.410558671334, 0.106131707653, 0.39794332304], rtol=1e-5)
    assert_allclose(_sd_corr(child), [0.800296462465, 0.106103392829, 0.550992601347], rtol=1e-5)
    assert fit.sigma == pytest.approx(0.54902879837, rel=1e-5)
    assert fit.loglik == pytest.approx(-8168.369700674524, abs=1e-6)


def test_correlated_participant_term_star_matches_lme4(star: pd.DataFrame) -> None:
    # lmer(math ~ yrs + (1 | sch) + (yrs | id), st, REML = FALSE)
    fit = _fit_terms(star, "math", "yrs", "id", "sch", False, reml=False)
    assert fit.converged, fit.message
    assert_allclose(fit.beta, [485.41098001, 43.1550860902], rtol=1e-6)
    assert_allclose(np.sqrt(np.diag(fit.vcov)), [1.70280013104, 0.197148483624], rtol=1e-5)
    school, pupil = fit.cov_re
    assert np.sqrt(school[0, 0]) == pytest.approx(14.5930405718, rel=1e-5)
    assert_allclose(_sd_corr(pupil), [36.0080924229, 8.46476225854, -0.463414746588], rtol=1e-5)
    assert fit.sigma == pytest.approx(24.4837558471, rel=1e-5)
    assert fit.loglik == pytest.approx(-122966.978893340463, abs=1e-6)
