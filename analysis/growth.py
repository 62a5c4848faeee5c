"""Growth models: score ~ time x role with random intercept and slope per participant.

Two engines fit the same model. The fast engine (:mod:`analysis.fastlmm`) fits the
two-level model (one grouping factor) by lme4's profiled penalised least squares; statsmodels'
MixedLM fits every model, including the three-level one with teams, and is the check on
the fast engine. ``engine="auto"`` takes the fast engine whenever it applies.

With a team level the model is ``(1 | team) + (1 | participant) + (0 + time | participant)``
in lme4's notation: MixedLM nests participants in teams as independent variance components,
so the participant intercept and slope are uncorrelated there (``corr`` is None).
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
    engine : "auto", "fast" (two-level model only) or "statsmodels".
    max_iter : iteration limit for the optimiser.

    Returns
    -------
    GrowthResults. Its p-values and confidence intervals are Wald (normal z) ones, as
    statsmodels reports; lme4 reports none. Check ``converged`` before trusting estimates.
    """
    spec = GrowthSpec(outcome, time, subject, group, by, _method(method))
    if engine not in ("auto", "fast", "statsmodels"):
        raise AnalysisError(f"engine must be 'auto', 'fast' or 'statsmodels', not {engine!r}")
    if engine == "fast" and group is not None:
        raise AnalysisError("the fast engine fits one grouping factor; use engine='statsmodels'")
    data, notes = prepare_data(df, spec)
    import patsy  # type: ignore[import-untyped]  # slow to import: only when a model is fitted

    y, x = patsy.dmatrices(spec.fixed_formula, data, return_type="dataframe", NA_action="raise")
    if np.linalg.matrix_rank(x.to_numpy()) < x.shape[1]:
        raise AnalysisError(
            f"the fixed effects {', '.join(x.columns)} cannot all be estimated from this data "
            "(some combination of time and groups has no observations)"
        )
    use_fast = group is None and engine in ("auto", "fast")
    fit = _fit_fast if use_fast else _fit_statsmodels
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


def prepare_data(df: pd.DataFrame, spec: GrowthSpec) -> tuple[pd.DataFrame, list[str]]:
    """Check the columns and the design, drop incomplete rows; return the data and notes."""
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
        _check_groups(data, spec, src)
    return data, notes


def _check_groups(data: pd.DataFrame, spec: GrowthSpec, src: str) -> None:
    """Require enough teams and each subject inside one team."""
    assert spec.group is not None
    n_groups = data[spec.group].nunique()
    if n_groups < MIN_GROUPS:
        raise AnalysisError(
            f"{src}: column {spec.group!r} has {n_groups} team(s); a team level needs at "
            f"least {MIN_GROUPS} (leave out the team level instead)"
        )
    teams_per_subject = data.groupby(spec.subject)[spec.group].nunique()
    crossed = teams_per_subject[teams_per_subject > 1]
    if len(crossed):
        who = crossed.index[0]
        teams = sorted(map(str, data.loc[data[spec.subject] == who, spec.group].unique()))
        raise AnalysisError(
            f"{src}: {spec.subject} {who!r} appears in more than one {spec.group} "
            f"({', '.join(teams)}); the team level needs each participant in one team "
            f"({len(crossed)} participant(s) affected)"
        )


def _fit_fast(
    spec: GrowthSpec, data: pd.DataFrame, y: np.ndarray, x: pd.DataFrame, max_iter: int
) -> GrowthResults:
    """Fit the two-level model with the vectorised penalised least squares engine."""
    from analysis import fastlmm  # scipy: imported when a model is fitted, not with the app
    codes, _ = pd.factorize(data[spec.subject])
    z = np.column_stack([np.ones(len(y)), data[spec.time].to_numpy(float)])
    stats = fastlmm.SufficientStats.from_arrays(y, x.to_numpy(float), z, codes)
    fit = fastlmm.fit_one_factor(stats, reml=spec.method == "REML", max_iter=max_iter)
    notes = [] if fit.converged else [fit.message]
    if fit.singular:
        notes.append(_singular_note(spec))
    sd = np.sqrt(np.diag(fit.cov_re))
    corr = float(fit.cov_re[0, 1] / (sd[0] * sd[1])) if sd.min() > 0 else None
    return GrowthResults(
        spec=spec,
        engine="fast",
        data=data,
        design_info=x.design_info,
        term_names=list(x.columns),
        beta=fit.beta,
        vcov=fit.vcov,
        random_effects=RandomEffects(
            subject_sd={"Intercept": float(sd[0]), spec.time: float(sd[1])},
            subject_corr=corr,
            group_sd=None,
        ),
        residual_sd=fit.sigma,
        loglik=fit.loglik,
        n_cov_params=3,
        n_subjects=int(codes.max()) + 1,
        n_groups=None,
        converged=fit.converged,
        optimizer=fit.message,
        warnings=notes,
    )


def _singular_note(spec: GrowthSpec) -> str:
    """Explain a boundary fit as lme4 would flag it."""
    return (
        "boundary (singular) fit: a random-effect variance is estimated as (almost) zero; "
        f"the data may not support a random slope of {spec.time!r} per {spec.subject!r}"
    )


def _fit_statsmodels(
    spec: GrowthSpec, data: pd.DataFrame, y: np.ndarray, x: pd.DataFrame, max_iter: int
) -> GrowthResults:
    """Fit with statsmodels' MixedLM, trying optimisers in turn until one converges."""
    import statsmodels.api as sm  # slow to import: only when this engine is used
    time_col = data[spec.time].to_numpy(float)
    if spec.group is None:
        model = sm.MixedLM(
            y, x.to_numpy(float), groups=data[spec.subject].to_numpy(),
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
        raise AnalysisError(
            f"statsmodels MixedLM could not fit the model (tried {', '.join(tried)}): "
            + "; ".join(caught)
        )
    converged = bool(result.converged)
    optimizer = f"statsmodels MixedLM, tried {', then '.join(tried)}: " + (
        "converged" if converged else "did not converge"
    )
    notes = list(dict.fromkeys(caught))
    if not converged:
        notes.insert(0, optimizer)
    scale = float(result.scale)
    cov_re = np.asarray(result.cov_re, dtype=float)
    if spec.group is None:
        sd = np.sqrt(np.diag(cov_re))
        subject_sd = {"Intercept": float(sd[0]), spec.time: float(sd[1])}
        corr = float(cov_re[0, 1] / (sd[0] * sd[1])) if sd.min() > 0 else None
        group_sd = None
        variances = np.r_[np.diag(cov_re)]
        n_cov = 3
    else:
        vcomp = np.asarray(result.vcomp, dtype=float)
        subject_sd = {"Intercept": float(np.sqrt(vcomp[0])), spec.time: float(np.sqrt(vcomp[1]))}
        corr = None
        group_sd = float(np.sqrt(cov_re[0, 0]))
        variances = np.r_[vcomp, cov_re[0, 0]]
        n_cov = 3
    if np.any(variances < SINGULAR_TOL**2 * scale):
        notes.append(_singular_note(spec))
    return GrowthResults(
        spec=spec,
        engine="statsmodels",
        data=data,
        design_info=x.design_info,
        term_names=list(x.columns),
        beta=np.asarray(result.fe_params, dtype=float),
        vcov=_gls_vcov(model, result),
        random_effects=RandomEffects(subject_sd=subject_sd, subject_corr=corr, group_sd=group_sd),
        residual_sd=float(np.sqrt(scale)),
        loglik=float(result.llf),
        n_cov_params=n_cov,
        n_subjects=int(data[spec.subject].nunique()),
        n_groups=None if spec.group is None else int(data[spec.group].nunique()),
        converged=converged,
        optimizer=optimizer,
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
