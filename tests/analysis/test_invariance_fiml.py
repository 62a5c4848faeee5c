"""Full-information ML invariance (lavaan ``missing = "ml"``) against lavaan 0.6-14.

Two public data sets with missing answers: psych's bfi as it ships (reference/bfi.csv, 2800
people, 211 answers missing; agreeableness A2 A3 A4 A5 A1 and conscientiousness C1-C5 by
gender), and lavaan's HolzingerSwineford1939 with answers deleted by the fixed rule in
reference/fiml.R (reference/holzinger.csv, 301 pupils, 186 answers missing; three factors by
school). Every constant comes from reference/fiml.R (its output is reference/fiml.out), with
the R call beside it: model <- the model below; d, g <- the data and group; measures <-
c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "baseline.chisq", "baseline.df").

tight(...) is cfa(..., missing = "ml") with lavaan's optimiser and its EM for the saturated
moments run to the optimum (BFGS reltol 1e-14, em.h1.tol 1e-12; see fiml.R: with lavaan's
defaults its estimates stop up to 1.3e-5 short). Chi-square and the indices built on it agree
to 1e-8 relative; estimates, standard errors (lavaan's default with missing = "ml": the
observed information) and SRMR to 1e-6.
"""

from __future__ import annotations

from typing import Any

import pytest

from analysis.datasets import read_csv
from analysis.invariance import STEPS, InvarianceResults, measurement_invariance
from tests.analysis.conftest import REFERENCE

FIT_KEYS = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "baseline_chisq", "baseline_df")
#: chi-square, CFI, TLI, RMSEA, baseline: relative tolerance
TIGHT = 1e-8
#: estimates and SRMR
CLOSE = 1e-6

# model: "agree =~ A2 + A3 + A4 + A5 + A1\n consc =~ C1 + C2 + C3 + C4 + C5"; d <- bfi; g = "gender"
BFI_FACTORS = {"agree": ["A2", "A3", "A4", "A5", "A1"], "consc": ["C1", "C2", "C3", "C4", "C5"]}
# lavInspect(fit, "group.label"), lavInspect(fit, "nobs")
BFI_NOBS = {"1": 919, "2": 1881}
# model: "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"; d <- hs; g = "school"
HS_FACTORS = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
# lavInspect(fit, "group.label"), lavInspect(fit, "nobs")
HS_NOBS = {"Pasteur": 156, "Grant-White": 145}
BFI_FIT = {
    # fitMeasures(tight(model, data = d, group = g), measures)
    "configural": [571.495311128, 68.0, 0.0, 0.90596927539, 0.875547570369, 0.0727242483176, 0.045140569656, 5444.58291125, 90.0],
    # fitMeasures(tight(model, data = d, group = g, group.equal = "loadings"), measures)
    "metric": [580.98886581, 76.0, 0.0, 0.905690345228, 0.888317514086, 0.0688922053418, 0.04632104823, 5444.58291125, 90.0],
    # fitMeasures(tight(model, data = d, group = g, group.equal = c("loadings", "intercepts")), measures)
    "scalar": [629.125849297, 84.0, 0.0, 0.898194526384, 0.89092270684, 0.0680839473634, 0.0482637260984, 5444.58291125, 90.0],
}
BFI_LOADINGS = {
    # parameterEstimates(fit.configural)[op == "=~", "est"], by group
    "configural": {'1': [1.0, 1.215064611354, 0.902037460235, 1.100544651796, -0.566051070499, 1.0, 1.133710835117, 0.991626037697, -1.227567890482, -1.300590461486], '2': [1.0, 1.335279930522, 0.978772879164, 1.020563356965, -0.699259182871, 1.0, 1.21420783284, 1.092844674365, -1.406775105229, -1.470911476313]},
    # parameterEstimates(fit.metric)[op == "=~", "est"], by group
    "metric": {'1': [1.0, 1.29093524685, 0.951335752209, 1.054223144331, -0.650226969485, 1.0, 1.184321193106, 1.056704139394, -1.347217197413, -1.413494716715], '2': [1.0, 1.29093524685, 0.951335752209, 1.054223144331, -0.650226969485, 1.0, 1.184321193106, 1.056704139394, -1.347217197413, -1.413494716715]},
    # parameterEstimates(fit.scalar)[op == "=~", "est"], by group
    "scalar": {'1': [1.0, 1.237988961807, 0.941094625339, 1.004600825157, -0.68025231465, 1.0, 1.201691487609, 1.073002812592, -1.377346102202, -1.452270734878], '2': [1.0, 1.237988961807, 0.941094625339, 1.004600825157, -0.68025231465, 1.0, 1.201691487609, 1.073002812592, -1.377346102202, -1.452270734878]},
}
# parameterEstimates(fit.scalar)[op == "~1", "est"]: the item intercepts (equal)
BFI_SCALAR_INTERCEPTS = [4.561574896315, 4.300025156016, 4.466897566932, 4.311947563847, 2.5761927347, 4.400615796019, 4.246469011337, 4.191177608346, 2.694248695517, 3.446444398051]
# ... and the factor means of group 2 (2; group 1's are fixed at 0)
BFI_SCALAR_FACTOR_MEANS = [0.368798454711, 0.154974656185]
HS_FIT = {
    # fitMeasures(tight(model, data = d, group = g), measures)
    "configural": [90.0550647883, 48.0, 0.000226694148057, 0.945421748016, 0.918132622023, 0.0762992527314, 0.0660871005027, 842.546202182, 72.0],
    # fitMeasures(tight(model, data = d, group = g, group.equal = "loadings"), measures)
    "metric": [95.1720931757, 54.0, 0.000463083785139, 0.946567651545, 0.928756868726, 0.071176453324, 0.0700941845569, 842.546202182, 72.0],
    # fitMeasures(tight(model, data = d, group = g, group.equal = c("loadings", "intercepts")), measures)
    "scalar": [135.901973384, 60.0, 8.13734319927e-08, 0.90149588283, 0.881795059397, 0.0916817001974, 0.0810983332171, 842.546202182, 72.0],
}
HS_LOADINGS = {
    # parameterEstimates(fit.configural)[op == "=~", "est"], by group
    "configural": {'Pasteur': [1.0, 0.458090510982, 0.612379906025, 1.0, 1.239141923768, 0.944416394349, 1.0, 1.147441690329, 0.819827602617], 'Grant-White': [1.0, 0.695601461712, 0.906089123749, 1.0, 1.017810967148, 0.954499861102, 1.0, 1.243596420964, 1.045025234786]},
    # parameterEstimates(fit.metric)[op == "=~", "est"], by group
    "metric": {'Pasteur': [1.0, 0.625713456836, 0.815206733628, 1.0, 1.114692831672, 0.944808852029, 1.0, 1.222894680795, 0.984074654951], 'Grant-White': [1.0, 0.625713456836, 0.815206733628, 1.0, 1.114692831672, 0.944808852029, 1.0, 1.222894680795, 0.984074654951]},
    # parameterEstimates(fit.scalar)[op == "=~", "est"], by group
    "scalar": {'Pasteur': [1.0, 0.605565614313, 0.825147338643, 1.0, 1.151204095949, 0.962554634442, 1.0, 1.134674264978, 0.951618052152], 'Grant-White': [1.0, 0.605565614313, 0.825147338643, 1.0, 1.151204095949, 0.962554634442, 1.0, 1.134674264978, 0.951618052152]},
}
# parameterEstimates(fit.scalar)[op == "~1", "est"]: the item intercepts (equal)
HS_SCALAR_INTERCEPTS = [5.065577734978, 6.151750808755, 2.26513538597, 2.779463802036, 4.031104315772, 1.921463990804, 4.255318478466, 5.659332400003, 5.455364167547]
# ... and the factor means of group 2 (Grant-White; group 1's are fixed at 0)
HS_SCALAR_FACTOR_MEANS = [-0.141760156733, 0.570285793974, -0.20534486965]
BFI_LOADING_SES = {
    # parameterEstimates(fit.configural)[op == "=~", "se"], by group (0, a marker's, as None)
    "configural": {'1': [None, 0.0769300591418, 0.0731950242097, 0.0721777853107, 0.06602661442, None, 0.084915623011, 0.0840971238629, 0.1043473242701, 0.1173495197342], '2': [None, 0.0663593407201, 0.0612518767182, 0.0559403490649, 0.0536759491205, None, 0.069822745052, 0.0690360704884, 0.0832661251339, 0.0951384699032]},
    # parameterEstimates(fit.metric)[op == "=~", "se"], by group (0, a marker's, as None)
    "metric": {'1': [None, 0.0506598832265, 0.0472448714529, 0.0443954207535, 0.0418530209728, None, 0.0540419210922, 0.0534624806653, 0.0651364095576, 0.0739722060686], '2': [None, 0.0506598832265, 0.0472448714529, 0.0443954207535, 0.0418530209728, None, 0.0540419210922, 0.0534624806653, 0.0651364095576, 0.0739722060686]},
    # parameterEstimates(fit.scalar)[op == "=~", "se"], by group (0, a marker's, as None)
    "scalar": {'1': [None, 0.0466268692621, 0.0446418969629, 0.0412606517195, 0.0400296952096, None, 0.0550460753851, 0.0543318799593, 0.0665088337012, 0.0756758275318], '2': [None, 0.0466268692621, 0.0446418969629, 0.0412606517195, 0.0400296952096, None, 0.0550460753851, 0.0543318799593, 0.0665088337012, 0.0756758275318]},
}
# parameterEstimates(fit.scalar)[op == "~1", "se"]: the item intercepts, group 1
BFI_SCALAR_INTERCEPT_SES = [0.0353221189409, 0.0405984017743, 0.0381754779377, 0.0357663636072, 0.0336258898177, 0.0318957345845, 0.0361277787296, 0.0338464262559, 0.0398375177985, 0.0442642002147]
HS_LOADING_SES = {
    # parameterEstimates(fit.configural)[op == "=~", "se"], by group (0, a marker's, as None)
    "configural": {'Pasteur': [None, 0.1811106061258, 0.1901975981638, None, 0.119938806276, 0.0972262711462, None, 0.2787301147612, 0.2305408192637], 'Grant-White': [None, 0.1570977217725, 0.1779709681377, None, 0.0921892378577, 0.091762612068, None, 0.1764042002891, 0.1860013849353]},
    # parameterEstimates(fit.metric)[op == "=~", "se"], by group (0, a marker's, as None)
    "metric": {'Pasteur': [None, 0.1203820376389, 0.1343956107438, None, 0.0754513692306, 0.067721823448, None, 0.1476343329341, 0.1480616647727], 'Grant-White': [None, 0.1203820376389, 0.1343956107438, None, 0.0754513692306, 0.067721823448, None, 0.1476343329341, 0.1480616647727]},
    # parameterEstimates(fit.scalar)[op == "=~", "se"], by group (0, a marker's, as None)
    "scalar": {'Pasteur': [None, 0.1186411556813, 0.1502535145081, None, 0.0737122520882, 0.0649707396686, None, 0.1405730856452, 0.1446848081735], 'Grant-White': [None, 0.1186411556813, 0.1502535145081, None, 0.0737122520882, 0.0649707396686, None, 0.1405730856452, 0.1446848081735]},
}
# parameterEstimates(fit.scalar)[op == "~1", "se"]: the item intercepts, group 1
HS_SCALAR_INTERCEPT_SES = [0.0993471438226, 0.080812747377, 0.0917819525352, 0.0869584323234, 0.0970075731464, 0.0782772232004, 0.0782542053973, 0.0785684438064, 0.0714594682921]
# lavTestLRT(fit.configural, fit.metric, fit.scalar)$`Chisq diff`[2:3]
BFI_LRT = [9.49355468133, 48.13698348762]
HS_LRT = [5.11702838748, 40.72988020851]

#: one data set's constants, and its fitted steps
Case = tuple[tuple[Any, ...], InvarianceResults]

CASES = {
    "bfi": ("bfi.csv", BFI_FACTORS, "gender", BFI_NOBS, BFI_FIT, BFI_LOADINGS,
            BFI_SCALAR_INTERCEPTS, BFI_SCALAR_FACTOR_MEANS, BFI_LRT, 211),
    "hs": ("holzinger.csv", HS_FACTORS, "school", HS_NOBS, HS_FIT, HS_LOADINGS,
           HS_SCALAR_INTERCEPTS, HS_SCALAR_FACTOR_MEANS, HS_LRT, 186),
}
SES = {"bfi": (BFI_LOADING_SES, BFI_SCALAR_INTERCEPT_SES), "hs": (HS_LOADING_SES, HS_SCALAR_INTERCEPT_SES)}


@pytest.fixture(scope="module", params=list(CASES))
def case(request: pytest.FixtureRequest) -> Case:
    """Fit the three steps by FIML (the default) on one data set."""
    spec = (*CASES[request.param], *SES[request.param])
    return spec, measurement_invariance(read_csv(REFERENCE / spec[0]), spec[1], spec[2])


def test_every_row_with_an_answer_is_used_and_the_output_says_so(case: Case) -> None:
    (_, _, _, nobs, *_, missing, _, _), res = case
    assert res.missing == "ml"
    assert res.groups == nobs
    assert res.missing_answers == missing
    assert res.rows_note == (f"{sum(nobs.values())} of {sum(nobs.values())} rows used "
                             f"(full-information ML: every answer counts; {missing} item "
                             "answers missing among them)")
    assert res.to_dict()["rows"] == res.rows_note
    assert res.rows_note in res.summary()
    assert res.converged


@pytest.mark.parametrize("step", STEPS)
def test_fit_measures_equal_lavaan(case: Case, step: str) -> None:
    (_, _, _, _, fit, *_), res = case
    got = res.step(step)
    expected = dict(zip(FIT_KEYS, fit[step], strict=True))
    for key in FIT_KEYS:
        tol = CLOSE if key == "srmr" else TIGHT
        assert getattr(got, key) == pytest.approx(expected[key], rel=tol, abs=1e-12), key
    # at least as good an optimum as lavaan's (to the 12 digits R printed)
    assert got.chisq <= expected["chisq"] * (1 + 1e-10)


@pytest.mark.parametrize("step", STEPS)
def test_loadings_equal_lavaan(case: Case, step: str) -> None:
    (_, factors, _, _, _, loadings, *_), res = case
    items = [i for its in factors.values() for i in its]
    for group, expected in loadings[step].items():
        got = [res.step(step).loadings[group][i] for i in items]
        assert got == pytest.approx(expected, rel=CLOSE, abs=1e-9), group


def test_scalar_intercepts_and_factor_means_equal_lavaan(case: Case) -> None:
    (_, factors, _, nobs, _, _, intercepts, means, *_), res = case
    first, second = list(nobs)
    scalar = res.step("scalar")
    items = [i for its in factors.values() for i in its]
    for group in (first, second):
        assert [scalar.intercepts[group][i] for i in items] == pytest.approx(intercepts, rel=CLOSE)
    assert list(scalar.factor_means[first].values()) == [0.0] * len(factors)
    assert list(scalar.factor_means[second].values()) == pytest.approx(means, rel=CLOSE, abs=1e-7)


@pytest.mark.parametrize("step", STEPS)
def test_standard_errors_equal_lavaan_observed_information(case: Case, step: str) -> None:
    (_, factors, _, nobs, *_, loading_ses, intercept_ses), res = case
    items = [i for its in factors.values() for i in its]
    got = res.step(step)
    for group, expected in loading_ses[step].items():
        for item, se in zip(items, expected, strict=True):
            assert got.loading_ses[group][item] == (None if se is None else pytest.approx(se, rel=CLOSE))
    if step == "scalar":
        for group in nobs:
            assert [got.intercept_ses[group][i] for i in items] == pytest.approx(intercept_ses, rel=CLOSE)


def test_chi_square_differences_equal_lavtestlrt(case: Case) -> None:
    (*_, lrt, _, _, _), res = case
    assert [c.delta_chisq for c in res.comparisons] == pytest.approx(lrt, rel=1e-7)


def test_listwise_uses_fewer_rows_and_says_why() -> None:
    data = read_csv(REFERENCE / "holzinger.csv")
    res = measurement_invariance(data, HS_FACTORS, "school", missing="listwise")
    assert res.missing == "listwise" and res.missing_answers == 0
    assert res.n_obs < 301
    assert res.rows_note == (f"{res.n_obs} of 301 rows used (listwise deletion: complete rows "
                             f"only); {301 - res.n_obs} left out: a missing group or item")


def test_an_unknown_missing_option_is_a_plain_error() -> None:
    from analysis.errors import AnalysisError
    with pytest.raises(AnalysisError, match="missing must be one of ml, listwise, not 'pairwise'"):
        measurement_invariance(read_csv(REFERENCE / "holzinger.csv"), HS_FACTORS, "school",
                               missing="pairwise")
