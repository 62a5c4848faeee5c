"""Growth models: score ~ time x role with random intercept and slope per participant.

Two engines fit the same model. The fast engine (:mod:`analysis.fastlmm`, the default for
every model) fits it by lme4's profiled penalised least squares; statsmodels' MixedLM is the
independent check (``engine="statsmodels"``). A statsmodels fit is reported only after it
passes lme4's gradient-and-Hessian check on the profiled deviance (refitted with time rescaled
if it does not); otherwise it is refused, never reported as converged.

With a team level the model is ``(1 | team) + (1 | participant) + (0 + time | participant)``
in lme4's notation, the participant intercept and slope uncorrelated (``corr`` is None), as
MixedLM fits it. The team is that of each occasion: a participant who moves team counts in each
team for the occasions spent there, as lmer does. MixedLM nests participants in teams, so
``engine="statsmodels"`` needs each participant in one team.
"""

from __future__ import annotations

import keyword
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.contract import label, require_variation
from analysis.datasets import numeric_column, require_columns, source_of
from analysis.errors import AnalysisError
from analysis.results import GrowthResults, RandomEffects
from analysis.types import Engine as Engine  # re-exported: `from analysis.growth import Method`
from analysis.types import Method as Method

if TYPE_CHECKING:
    import statsmodels.api as sm

#: Fewest participants with two or more observations that a growth model is fitted to.
MIN_SUBJECTS = 10
#: Fewest teams for a team level.
MIN_GROUPS = 3
#: Relative size below which a variance is reported as on the boundary (as lme4's 1e-4 on theta).
SINGULAR_TOL = 1e-4


#: Log-likelihood still to gain (Newton estimate) above which a checked statsmodels fit is noted.
GAIN_NOTE = 1e-7

#: statsmodels optimisers tried in turn until one converges.
STATSMODELS_METHODS: tuple[str, ...] = ("lbfgs", "bfgs", "nm")


@dataclass(frozen=True)
class GrowthSpec:
    """What to fit: column names and the estimation method."""

    outcome: str
    time: str
    subject: str
    group: str | None = None
    by: str | None = None
    method: Method = "REML"

    @property
    def fixed_formula(self) -> str:
        """Return the patsy formula of the fixed part."""
        rhs = _q(self.time) if self.by is None else f"{_q(self.time)} * {_q(self.by)}"
        return f"{_q(self.outcome)} ~ {rhs}"

    @property
    def formula(self) -> str:
        """Return the whole model in lme4's notation, to refit it in R."""
        fixed = f"{self.outcome} ~ {self.time}" + ("" if self.by is None else f" * {self.by}")
        if self.group is None:
            return f"{fixed} + (1 + {self.time} | {self.subject})"
        return (
            f"{fixed} + (1 | {self.group}) + (1 | {self.subject}) + "
            f"(0 + {self.time} | {self.subject})"
        )


def _q(name: str) -> str:
    """Quote a column name for patsy unless it is a plain identifier."""
    if name.isidentifier() and not keyword.iskeyword(name):
        return name
    return f"Q({name!r})"


def fit_growth(
    df: pd.DataFrame,
    outcome: str,
    time: str,
    subject: str,
    group: str | None = None,
    by: str | None = None,
    method: str = "REML",
    engine: str = "auto",
    max_iter: int = 1000,
) -> GrowthResults:
    """Fit ``outcome ~ time [* by]`` with random intercept and slope per subject.

    Parameters
    ----------
    df : long data, one row per subject and occasion.
    outcome, time, subject : column names; ``time`` is numeric (e.g. months since anchor).
    group : optional team column, a further level with its own random intercept.
    by : optional between-subject factor (e.g. role), giving the time x by interaction.
    method : "REML" (default) or "ML" (needed for likelihood-ratio tests).
    engine : "auto" or "fast" (the same), or "statsmodels" (the cross-check).
    max_iter : iteration limit for the optimiser.

    Returns
    -------
    GrowthResults. Its p-values and confidence intervals are Wald (normal z) ones, as
    statsmodels reports; lme4 reports none. Check ``converged`` before trusting estimates.
    """
    spec = GrowthSpec(outcome, time, subject, group, by, _method(method))
    if engine not in ("auto", "fast", "statsmodels"):
        raise AnalysisError(f"engine must be 'auto', 'fast' or 'statsmodels', not {engine!r}")
    data, notes = prepare_data(df, spec, nested=engine == "statsmodels")
    import patsy  # type: ignore[import-untyped]  # slow to import: only when a model is fitted

    y, x = patsy.dmatrices(spec.fixed_formula, data, return_type="dataframe", NA_action="raise")
    if np.linalg.matrix_rank(x.to_numpy()) < x.shape[1]:
        raise AnalysisError(
            f"the fixed effects {', '.join(x.columns)} cannot all be estimated from this data "
            "(some combination of time and groups has no observations)"
        )
    fit = _fit_statsmodels if engine == "statsmodels" else _fit_fast
    results = fit(spec, data, y.iloc[:, 0].to_numpy(float), x, max_iter)
    results.warnings[:0] = notes
    return results


def _method(method: str) -> Method:
    """Normalise the method name."""
    upper = method.upper()
    if upper == "REML":
        return "REML"
    if upper == "ML":
        return "ML"
    raise AnalysisError(f"method must be 'REML' or 'ML', not {method!r}")


def prepare_data(
    df: pd.DataFrame, spec: GrowthSpec, nested: bool = False
) -> tuple[pd.DataFrame, list[str]]:
    """Check the columns and the design, drop incomplete rows; return the data and notes.

    ``nested`` requires each participant in one team (statsmodels' nesting); otherwise a
    participant who moves team is noted and fitted with the team of each occasion.
    """
    columns = [spec.outcome, spec.time, spec.subject]
    columns += [c for c in (spec.by, spec.group) if c is not None]
    require_columns(df, columns)
    src = source_of(df)
    data = df.copy()  # other columns (e.g. wave) stay for observed means in plots
    data[spec.outcome] = numeric_column(df, spec.outcome)
    data[spec.time] = numeric_column(df, spec.time)
    notes: list[str] = []
    complete = data[columns].notna().all(axis=1)
    if not complete.all():
        notes.append(f"dropped {int((~complete).sum())} row(s) with a missing value")
        data = data.loc[complete]
    data = data.reset_index(drop=True)
    require_variation(data[spec.outcome], spec.outcome, src)
    times = np.unique(data[spec.time].to_numpy())
    if len(times) < 2:
        found = "no complete rows" if len(times) == 0 else f"only {spec.time} = {times[0]:g}"
        raise AnalysisError(
            f"{src}: a growth model needs at least two waves (distinct values of "
            f"{spec.time!r}); found {found}"
        )
    counts = data[spec.subject].value_counts()
    repeated = int((counts >= 2).sum())
    if repeated < MIN_SUBJECTS:
        raise AnalysisError(
            f"{src}: too few participants: {repeated} of {len(counts)} in {spec.subject!r} have "
            f"two or more observations; a growth model needs at least {MIN_SUBJECTS}"
        )
    if spec.by is not None and data[spec.by].nunique() < 2:
        raise AnalysisError(
            f"{src}: column {spec.by!r} has a single value ({label(data[spec.by].iloc[0])}); "
            "leave out 'by' or use a column with two or more groups"
        )
    if spec.by is not None:
        # A factor, never a numeric covariate; categorical also spares patsy a slow scan.
        data[spec.by] = data[spec.by].map(label).astype("category")
    if spec.group is not None:
        notes += _check_groups(data, spec, src, nested)
    return data, notes


def _check_groups(data: pd.DataFrame, spec: GrowthSpec, src: str, nested: bool) -> list[str]:
    """Require enough teams (and, if nested, each subject inside one team); note movers."""
    assert spec.group is not None
    n_groups = data[spec.group].nunique()
    if n_groups < MIN_GROUPS:
        raise AnalysisError(
            f"{src}: column {spec.group!r} has {n_groups} team(s); a team level needs at "
            f"least {MIN_GROUPS} (leave out the team level instead)"
        )
    teams_per_subject = data.groupby(spec.subject)[spec.group].nunique()
    crossed = teams_per_subject[teams_per_subject > 1]
    if len(crossed) and nested:
        who = crossed.index[0]
        teams = sorted(map(str, data.loc[data[spec.subject] == who, spec.group].unique()))
        raise AnalysisError(
            f"{src}: {spec.subject} {who!r} appears in more than one {spec.group} "
            f"({', '.join(teams)}); the statsmodels engine needs each participant in one team "
            f"({len(crossed)} participant(s) affected): use the default engine, which fits "
            "the team of each occasion"
        )
    if len(crossed):
        return [
            f"{len(crossed)} participant(s) changed {spec.group}; each occasion counts in the "
            f"{spec.group} of that occasion (as lmer with (1 | {spec.group}))"
        ]
    return []


def _terms(spec: GrowthSpec, data: pd.DataFrame) -> list[Any]:
    """The random-effect terms of the model: ``(1 + time | subject)``, with a team level
    ``(1 | team) + (1 | subject) + (0 + time | subject)``."""
    from analysis import fastlmm

    codes, _ = pd.factorize(data[spec.subject])
    z = np.column_stack([np.ones(len(data)), data[spec.time].to_numpy(float)])
    if spec.group is None:
        return [fastlmm.Term(codes, z)]
    teams, _ = pd.factorize(data[spec.group])
    return [fastlmm.Term(teams, z[:, :1]), fastlmm.Term(codes, z, correlated=False)]


def _fit_fast(
    spec: GrowthSpec, data: pd.DataFrame, y: np.ndarray, x: pd.DataFrame, max_iter: int
) -> GrowthResults:
    """Fit with the penalised least squares engine (one factor, or with teams)."""
    from analysis import fastlmm  # scipy: imported when a model is fitted, not with the app

    if spec.group is not None:
        return _fit_fast_teams(spec, data, y, x, max_iter)
    codes, _ = pd.factorize(data[spec.subject])
    z = np.column_stack([np.ones(len(y)), data[spec.time].to_numpy(float)])
    stats = fastlmm.SufficientStats.from_arrays(y, x.to_numpy(float), z, codes)
    fit = fastlmm.fit_one_factor(stats, reml=spec.method == "REML", max_iter=max_iter)
    sd = np.sqrt(np.diag(fit.cov_re))
    corr = float(fit.cov_re[0, 1] / (sd[0] * sd[1])) if sd.min() > 0 else None
    return _fast_results(spec, data, x, fit, sd, corr, None, int(codes.max()) + 1, None)


def _fit_fast_teams(
    spec: GrowthSpec, data: pd.DataFrame, y: np.ndarray, x: pd.DataFrame, max_iter: int
) -> GrowthResults:
    """Fit the model with a team level: participants and teams, nested or crossed."""
    from analysis import fastlmm

    assert spec.group is not None
    terms = _terms(spec, data)
    fit = fastlmm.fit_terms(y, x.to_numpy(float), terms, reml=spec.method == "REML",
                            max_iter=max_iter)
    team_cov, subject_cov = fit.cov_re
    return _fast_results(spec, data, x, fit, np.sqrt(np.diag(subject_cov)), None,
                         float(np.sqrt(team_cov[0, 0])), int(data[spec.subject].nunique()),
                         int(data[spec.group].nunique()))


def _fast_results(
    spec: GrowthSpec, data: pd.DataFrame, x: pd.DataFrame, fit: Any, subject_sd: np.ndarray,
    subject_corr: float | None, group_sd: float | None, n_subjects: int, n_groups: int | None,
) -> GrowthResults:
    """The results of a fast-engine fit (with or without teams), its notes from its check."""
    notes = [] if fit.converged else [fit.message]
    if fit.singular:
        notes.append(_singular_note(spec))
    return GrowthResults(
        spec=spec,
        engine="fast",
        data=data,
        design_info=x.design_info,
        term_names=list(x.columns),
        beta=fit.beta,
        vcov=fit.vcov,
        random_effects=RandomEffects(
            subject_sd={"Intercept": float(subject_sd[0]), spec.time: float(subject_sd[1])},
            subject_corr=subject_corr,
            group_sd=group_sd,
        ),
        residual_sd=fit.sigma,
        loglik=fit.loglik,
        n_cov_params=3,
        n_subjects=n_subjects,
        n_groups=n_groups,
        converged=fit.converged,
        optimizer=fit.message,
        warnings=notes,
    )


def _singular_note(spec: GrowthSpec) -> str:
    """Explain a boundary fit as lme4 would flag it."""
    what = f"a random slope of {spec.time!r} per {spec.subject!r}"
    if spec.group is not None:
        what += f" or a team level {spec.group!r}"
    return (
        "boundary (singular) fit: a random-effect variance is estimated as (almost) zero; "
        f"the data may not support {what}"
    )


def _fit_statsmodels(
    spec: GrowthSpec, data: pd.DataFrame, y: np.ndarray, x: pd.DataFrame, max_iter: int
) -> GrowthResults:
    """Fit with statsmodels' MixedLM and report the fit only if it is at the optimum.

    MixedLM can stop short of the optimum and still say it converged (with time in days on
    a classic data set its REML log-likelihood was 45.7 below lme4's). Each fit is therefore
    checked as lme4 checks its own: at the estimates, the Newton step of the profiled
    deviance (exact gradient and Hessian from :mod:`analysis.fastlmm`) must be small and the
    Hessian positive definite. A fit that fails is refitted with time rescaled to unit
    standard deviation (results transformed back); if that fails too, the fit is refused.
    """
    from analysis import fastlmm

    times = data[spec.time].to_numpy(float)
    unit = float(np.std(times)) or 1.0
    checked: list[str] = []
    for scale_by in (1.0, unit):
        if checked and scale_by == 1.0:
            break
        fitted = _statsmodels_once(spec, data, y, x, max_iter, scale_by)
        if fitted is None:
            checked.append(f"time / {scale_by:g}: statsmodels stopped with an error")
            continue
        beta, vcov, covs, sigma2, llf, optimizer, notes, sm_converged = fitted
        ok, deviance, gain = fastlmm.check_optimum(
            y, x.to_numpy(float), _terms(spec, data), covs, sigma2, spec.method == "REML")
        if ok and sm_converged:
            if gain > GAIN_NOTE:
                notes.insert(0, f"statsmodels stopped within lme4's convergence tolerance but "
                                f"about {gain:.1e} below the maximum of the log-likelihood: "
                                "estimates may differ from lme4's in the fourth digit")
            if scale_by != 1.0:
                notes.insert(0, f"statsmodels reached the optimum only with {spec.time} "
                                f"divided by {scale_by:.6g}; results are in the original units")
                llf = -deviance / 2.0
            return _statsmodels_results(spec, data, x, beta, vcov, covs, sigma2, llf,
                                        optimizer, notes)
        checked.append(
            f"{spec.time}" + ("" if scale_by == 1.0 else f" / {scale_by:.6g}")
            + f": {optimizer.split(': ')[-1]}, log-likelihood {llf:.6f}, "
            + "gradient-and-Hessian check " + ("passed" if ok else "failed")
        )
    raise AnalysisError(
        "statsmodels MixedLM did not reach the optimum of the "
        f"{spec.method} likelihood ({'; '.join(checked)}): its estimates would be wrong, so "
        "none are reported. Use the default engine (engine 'fast', which checks its own "
        "optimum), or rescale time (e.g. weeks instead of days)."
    )


def _statsmodels_once(
    spec: GrowthSpec, data: pd.DataFrame, y: np.ndarray, x: pd.DataFrame, max_iter: int,
    scale_by: float,
) -> tuple[Any, ...] | None:
    """One MixedLM fit with time divided by scale_by; estimates back in the original units."""
    import patsy
    import statsmodels.api as sm  # slow to import: only when this engine is used

    if scale_by != 1.0:
        data = data.copy()
        data[spec.time] = data[spec.time].to_numpy(float) / scale_by
        x_s = patsy.dmatrix(x.design_info, data, return_type="dataframe")
    else:
        x_s = x
    xo, xs = x.to_numpy(float), x_s.to_numpy(float)
    # Columns with time are divided by scale_by, the others unchanged: X_s = X_o diag(1 / d).
    d = np.array([float(xo[:, j] @ xo[:, j]) / float(xo[:, j] @ xs[:, j]) if xo[:, j].any()
                  else 1.0 for j in range(xo.shape[1])])
    time_col = data[spec.time].to_numpy(float)
    if spec.group is None:
        model = sm.MixedLM(
            y, xs, groups=data[spec.subject].to_numpy(),
            exog_re=np.column_stack([np.ones(len(y)), time_col]),
        )
    else:
        subj = _q(spec.subject)
        model = sm.MixedLM.from_formula(
            spec.fixed_formula, data, groups=data[spec.group], re_formula="1",
            vc_formula={
                "subject": f"0 + C({subj})",
                "subject_slope": f"0 + C({subj}):{_q(spec.time)}",
            },
        )
    tried: list[str] = []
    caught: list[str] = []
    result = None
    for name in STATSMODELS_METHODS:
        tried.append(name)
        with warnings.catch_warnings(record=True) as records:
            warnings.simplefilter("always")
            try:
                result = model.fit(reml=spec.method == "REML", method=[name], maxiter=max_iter)
            except (np.linalg.LinAlgError, ValueError) as exc:
                caught.append(f"statsmodels {name}: {exc}")
                continue
        caught = [str(r.message) for r in records if not _is_retry_chatter(str(r.message))]
        if result.converged:
            break
    if result is None:
        return None
    converged = bool(result.converged)
    optimizer = f"statsmodels MixedLM, tried {', then '.join(tried)}: " + (
        "converged" if converged else "did not converge"
    )
    notes = list(dict.fromkeys(caught))
    scale = float(result.scale)
    cov_re = np.asarray(result.cov_re, dtype=float)
    back = np.diag([1.0, 1.0 / scale_by])
    if spec.group is None:
        covs = [back @ cov_re @ back]
    else:
        vcomp = np.asarray(result.vcomp, dtype=float)
        covs = [cov_re[:1, :1], np.diag([vcomp[0], vcomp[1] / scale_by**2])]
    beta = np.asarray(result.fe_params, dtype=float) / d
    vcov = _gls_vcov(model, result) / np.outer(d, d)
    return beta, vcov, covs, scale, float(result.llf), optimizer, notes, converged


def _statsmodels_results(
    spec: GrowthSpec, data: pd.DataFrame, x: pd.DataFrame, beta: np.ndarray, vcov: np.ndarray,
    covs: list[np.ndarray], scale: float, llf: float, optimizer: str, notes: list[str],
) -> GrowthResults:
    """GrowthResults of a statsmodels fit that passed the optimum check."""
    if spec.group is None:
        cov = covs[0]
        sd = np.sqrt(np.diag(cov))
        corr = float(cov[0, 1] / (sd[0] * sd[1])) if sd.min() > 0 else None
        group_sd = None
        variances = np.diag(cov)
    else:
        sd = np.sqrt(np.diag(covs[1]))
        corr = None
        group_sd = float(np.sqrt(covs[0][0, 0]))
        variances = np.r_[np.diag(covs[1]), covs[0][0, 0]]
    if np.any(variances < SINGULAR_TOL**2 * scale):
        notes.append(_singular_note(spec))
    return GrowthResults(
        spec=spec,
        engine="statsmodels",
        data=data,
        design_info=x.design_info,
        term_names=list(x.columns),
        beta=beta,
        vcov=vcov,
        random_effects=RandomEffects(
            subject_sd={"Intercept": float(sd[0]), spec.time: float(sd[1])},
            subject_corr=corr, group_sd=group_sd),
        residual_sd=float(np.sqrt(scale)),
        loglik=llf,
        n_cov_params=3,
        n_subjects=int(data[spec.subject].nunique()),
        n_groups=None if spec.group is None else int(data[spec.group].nunique()),
        converged=True,
        optimizer=optimizer + "; at the optimum by lme4's gradient-and-Hessian check",
        warnings=notes,
    )


def _is_retry_chatter(message: str) -> bool:
    """Tell statsmodels' retry notices and its blanket boundary notice from real warnings.

    MixedLM says "The MLE may be on the boundary" after most fits whatever the estimates;
    the boundary is checked here on the variances themselves instead.
    """
    return message.startswith(
        ("Retrying MixedLM", "MixedLM optimization failed", "The MLE may be on the boundary")
    )


def _gls_vcov(model: sm.MixedLM, result: Any) -> np.ndarray:
    """Return (X' V^-1 X)^-1 at the estimates, as lme4's vcov() (not the inverse Hessian)."""
    scale = float(result.scale)
    cov_re = np.asarray(result.cov_re, dtype=float)
    vcomp = np.asarray(getattr(result, "vcomp", np.zeros(0)), dtype=float)
    info = np.zeros((model.k_fe, model.k_fe))
    for g in range(len(model.group_labels)):
        xg = model.exog_li[g]
        zg = model.exog_re_li[g]
        v = scale * np.eye(len(xg)) + zg @ cov_re @ zg.T
        for k in range(len(vcomp)):
            mat = np.asarray(model.exog_vc.mats[k][g], dtype=float)
            v += vcomp[k] * mat @ mat.T
        info += xg.T @ np.linalg.solve(v, xg)
    return np.asarray(np.linalg.inv(info), dtype=float)
