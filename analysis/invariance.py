"""Measurement invariance by multi-group confirmatory factor analysis (configural, metric, scalar).

Why this is implemented here rather than with an SEM package: semopy (2.3.11, checked from
its source) fits a "multigroup" model as separate single-group fits, one per group, with no
equality constraints across groups, so the metric and scalar steps cannot be expressed; it
also has no SRMR. The model here is small and closed-form, so the maximum likelihood fit
function is written out directly and minimised with scipy's BFGS on its analytic gradient.
It follows lavaan's defaults for ``cfa(model, data, group = ...)`` exactly:

* marker-variable identification (the first item of each factor has loading 1), a mean
  structure, correlated factors;
* missing answers (``missing``): ``"ml"``, the default, is full-information maximum
  likelihood as lavaan's ``cfa(..., missing = "ml")``: every answer a person gave counts, the
  likelihood summed over the patterns of answered items; the saturated (H1) model is the
  unrestricted mean and covariance fitted by EM, the baseline its diagonal (each item's own
  available-case mean and variance), and SRMR compares the model with the H1 moments.
  Rows with no item answered (or no group) carry no information and are left out, as lavaan
  does. ``"listwise"`` is lavaan's default ``missing = "listwise"``: only complete rows;
* configural: loadings, intercepts, residual and factor (co)variances free in every group,
  factor means 0; metric (``group.equal = "loadings"``): loadings equal across groups;
  scalar (``group.equal = c("loadings", "intercepts")``): intercepts equal as well, factor
  means 0 in the first group (groups in order of first appearance) and free in the others;
* the ML discrepancy per group with sample moments divided by N (lavaan's
  ``likelihood = "normal"``), chi-square = sum over groups of N_g times that discrepancy;
* the baseline model for CFI and TLI: free variances and means in each group, no covariances;
* RMSEA from the total N, times sqrt(number of groups) (lavaan's multi-group correction);
* SRMR as lavaan's ``srmr`` (Bentler's): residual covariances and means scaled by the
  observed standard deviations, root mean square per group, weighted by group size.

The reference tests (tests/analysis/test_invariance_reference.py, listwise, and
tests/analysis/test_invariance_fiml.py, FIML on psych's bfi and lavaan's HolzingerSwineford1939)
hold lavaan 0.6's numbers for the same data, with the R calls beside them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from analysis.contract import label as written_label
from analysis.datasets import numeric_column, require_columns, source_of
from analysis.errors import AnalysisError

STEPS: tuple[str, ...] = ("configural", "metric", "scalar")
#: Fewest complete rows a group may have (and always more than the number of items).
MIN_GROUP_ROWS = 10
#: Largest absolute gradient of the per-observation fit function accepted as converged.
GRADIENT_TOLERANCE = 1e-5
#: How missing answers are handled: full-information ML (lavaan missing = "ml") or listwise.
MISSING = ("ml", "listwise")


@dataclass(frozen=True)
class StepFit:
    """One invariance step: its fit indices and estimates per group."""

    model: str
    chisq: float
    df: int
    pvalue: float
    cfi: float
    tli: float
    rmsea: float
    srmr: float
    baseline_chisq: float
    baseline_df: int
    converged: bool
    #: group -> item -> loading on the item's factor (unstandardised)
    loadings: dict[str, dict[str, float]]
    #: group -> item -> intercept
    intercepts: dict[str, dict[str, float]]
    #: group -> item -> residual variance
    residuals: dict[str, dict[str, float]]
    #: group -> factor -> mean (0 except in the later groups of the scalar step)
    factor_means: dict[str, dict[str, float]]
    #: group -> item -> standard error of the loading (None for a marker, fixed at 1), from the
    #: observed information (lavaan's default with missing = "ml"); empty if it is singular
    loading_ses: dict[str, dict[str, float | None]] = field(default_factory=dict)
    #: group -> item -> standard error of the intercept, likewise
    intercept_ses: dict[str, dict[str, float]] = field(default_factory=dict)

    def fit_indices(self) -> dict[str, Any]:
        """Return the fit indices as the CLI and the web page show them."""
        return {"model": self.model, "chisq": self.chisq, "df": self.df, "cfi": self.cfi,
                "tli": self.tli, "rmsea": self.rmsea, "srmr": self.srmr}


@dataclass(frozen=True)
class StepComparison:
    """The chi-square difference test between two nested steps."""

    from_model: str
    to_model: str
    delta_chisq: float
    delta_df: int
    p: float
    delta_cfi: float

    def to_dict(self) -> dict[str, Any]:
        """Return the comparison with the keys of the JSON output."""
        return {"from": self.from_model, "to": self.to_model, "delta_chisq": self.delta_chisq,
                "delta_df": self.delta_df, "p": self.p, "delta_cfi": self.delta_cfi}


@dataclass(frozen=True)
class InvarianceResults:
    """The three steps of an invariance analysis, their comparisons and any warnings."""

    factors: dict[str, list[str]]
    group: str
    groups: dict[str, int]
    steps: list[StepFit]
    comparisons: list[StepComparison]
    warnings: list[str] = field(default_factory=list)
    #: "ml" (full information) or "listwise"
    missing: str = "listwise"
    #: rows in the data before any was left out
    rows_read: int = 0
    #: item answers missing among the rows used (FIML uses the rest of those rows)
    missing_answers: int = 0

    @property
    def n_obs(self) -> int:
        """Return the number of rows used."""
        return sum(self.groups.values())

    @property
    def rows_note(self) -> str:
        """How many rows the analysis used and why the others were left out, in words."""
        left = self.rows_read - self.n_obs
        if self.missing == "ml":
            used = (f"{self.n_obs} of {self.rows_read} rows used (full-information ML: every "
                    f"answer counts; {self.missing_answers} item answers missing among them)")
            why = "no group or no item answered"
        else:
            used = f"{self.n_obs} of {self.rows_read} rows used (listwise deletion: complete rows only)"
            why = "a missing group or item"
        return used + (f"; {left} left out: {why}" if left else "")

    @property
    def converged(self) -> bool:
        """Return whether every step converged."""
        return all(s.converged for s in self.steps)

    def step(self, model: str) -> StepFit:
        """Return the step called ``model`` (configural, metric or scalar)."""
        return next(s for s in self.steps if s.model == model)

    def require_convergence(self) -> None:
        """Raise an AnalysisError naming the steps whose fit did not converge."""
        failed = [s.model for s in self.steps if not s.converged]
        if failed:
            raise AnalysisError(
                f"the {', '.join(failed)} model(s) did not converge; no estimates are reported. "
                "Check that each group has enough rows and that the items vary within every group"
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the one JSON object of ``python -m analysis invariance --json``."""
        return {
            "n_obs": self.n_obs,
            "rows_read": self.rows_read,
            "missing": self.missing,
            "missing_answers": self.missing_answers,
            "rows": self.rows_note,
            "groups": dict(self.groups),
            "steps": [s.fit_indices() for s in self.steps],
            "comparisons": [c.to_dict() for c in self.comparisons],
            "converged": self.converged,
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        """Return a plain-text report of fit per step and the differences between steps."""
        groups = ", ".join(f"{g} ({n})" for g, n in self.groups.items())
        lines = [
            f"Measurement invariance across {self.group}: {groups}",
            self.rows_note,
            "Factors: " + "; ".join(f"{f} = {' + '.join(items)}" for f, items in self.factors.items()),
            "",
            f"{'model':<11}{'chisq':>10}{'df':>5}{'p':>8}{'CFI':>8}{'TLI':>8}{'RMSEA':>8}{'SRMR':>8}",
        ]
        for s in self.steps:
            lines.append(f"{s.model:<11}{s.chisq:>10.3f}{s.df:>5d}{s.pvalue:>8.4f}{s.cfi:>8.3f}"
                         f"{s.tli:>8.3f}{s.rmsea:>8.3f}{s.srmr:>8.3f}")
        lines += ["", f"{'comparison':<22}{'d chisq':>10}{'d df':>6}{'p':>8}{'d CFI':>8}"]
        for c in self.comparisons:
            lines.append(f"{c.from_model + ' -> ' + c.to_model:<22}{c.delta_chisq:>10.3f}"
                         f"{c.delta_df:>6d}{c.p:>8.4f}{c.delta_cfi:>8.3f}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass(frozen=True)
class _Pattern:
    """The rows of one group that answered the same items: their count, means and covariance."""

    n: int
    observed: np.ndarray  # indices of the answered items
    mean: np.ndarray
    cov: np.ndarray  # divisor n


@dataclass(frozen=True)
class _Moments:
    """One group: its patterns of answers and its saturated (H1) moments.

    With complete rows the H1 moments are the sample mean and covariance (divisor N, as lavaan's
    ML); with missing answers they are the EM estimates. ``h1`` is the saturated model's
    -2 log-likelihood without its 2*pi term, so that chi-square = minimum - h1.
    """

    n: int
    mean: np.ndarray
    cov: np.ndarray
    patterns: list[_Pattern]
    h1: float


@dataclass
class _Layout:
    """Where each free parameter sits in each group's matrices (-1: fixed)."""

    n_groups: int
    item_factor: np.ndarray  # (p,) factor of each item
    lam: np.ndarray  # (G, p) loading index, -1 for markers (fixed at 1)
    phi: np.ndarray  # (G, m, m) symmetric factor (co)variance indices
    theta: np.ndarray  # (G, p) residual variance indices
    nu: np.ndarray  # (G, p) intercept indices
    kappa: np.ndarray  # (G, m) factor mean indices, -1 for fixed at 0
    n_free: int = 0


def measurement_invariance(
    df: pd.DataFrame, factors: Mapping[str, Sequence[str]] | Sequence[str], group: str,
    max_iter: int = 5000, missing: str = "ml",
) -> InvarianceResults:
    """Fit the configural, metric and scalar models of ``factors`` across the groups of ``group``.

    ``factors`` maps each factor to its items (the first item is the marker); a plain list of
    items is one factor called ``f1``. ``missing="ml"`` (full-information ML) uses every row
    with the group and at least one item answered; ``"listwise"`` only complete rows.
    """
    from scipy import stats  # slow to import: only when used
    if missing not in MISSING:
        raise AnalysisError(f"missing must be one of {', '.join(MISSING)}, not {missing!r}")
    spec = _factor_spec(factors)
    items = [item for its in spec.values() for item in its]
    require_columns(df, [*items, group])
    data, groups, warnings = _usable_rows(df, items, group, missing)
    moments = [_moments(data.loc[data[group] == g, items].to_numpy(float)) for g in groups]
    if missing == "ml":
        _check_moments(df, moments, groups, group, items)
    item_factor = np.array([i for i, its in enumerate(spec.values()) for _ in its])
    fits = [_fit_step(step, moments, item_factor, max_iter) for step in STEPS]
    steps = [
        _step_result(step, est, ok, moments, spec, [str(g) for g in groups])
        for step, (est, ok) in zip(STEPS, fits, strict=True)
    ]
    comparisons = [
        StepComparison(a.model, b.model, b.chisq - a.chisq, b.df - a.df,
                       float(stats.chi2.sf(b.chisq - a.chisq, b.df - a.df)), b.cfi - a.cfi)
        for a, b in pairwise(steps)
    ]
    warnings += _heywood_warnings(steps)
    return InvarianceResults(
        factors={f: list(its) for f, its in spec.items()},
        group=group,
        groups={str(g): int(m.n) for g, m in zip(groups, moments, strict=True)},
        steps=steps,
        comparisons=comparisons,
        warnings=warnings,
        missing=missing,
        rows_read=len(df),
        missing_answers=int(data[items].isna().to_numpy().sum()),
    )


def _factor_spec(factors: Mapping[str, Sequence[str]] | Sequence[str]) -> dict[str, list[str]]:
    """Check the factor specification and return it as factor -> items."""
    spec = ({str(f): list(its) for f, its in factors.items()} if isinstance(factors, Mapping)
            else {"f1": list(factors)})
    if not spec:
        raise AnalysisError("no factor given: name at least three items")
    seen: set[str] = set()
    for name, its in spec.items():
        least = 3 if len(spec) == 1 else 2
        if len(its) < least:
            raise AnalysisError(
                f"factor {name!r} has {len(its)} item(s); a factor needs at least {least} "
                "items to be identified"
            )
        repeated = [i for i in its if i in seen or its.count(i) > 1]
        if repeated:
            raise AnalysisError(f"item {repeated[0]!r} is named more than once; each item "
                                "loads on one factor")
        seen.update(its)
    return spec


def _usable_rows(
    df: pd.DataFrame, items: list[str], group: str, missing: str
) -> tuple[pd.DataFrame, list[Any], list[str]]:
    """Return the rows used, the groups in order of first appearance, and warnings."""
    data = pd.DataFrame({item: numeric_column(df, item) for item in items})
    # labels as written (2, not np.int64(2); 1, not 1.0), whatever the column's type
    data[group] = df[group].map(lambda v: v if pd.isna(v) else written_label(v)).to_numpy()
    if missing == "listwise":
        complete = data.dropna()
        why = "a missing group or item (listwise deletion)"
    else:
        complete = data.loc[data[group].notna() & data[items].notna().any(axis=1)]
        why = "no group or no item answered (full-information ML uses every other row)"
    warnings = []
    dropped = len(data) - len(complete)
    if dropped:
        warnings.append(f"{dropped} of {len(data)} rows left out: {why}")
    groups = list(pd.unique(complete[group]))
    if len(groups) < 2:
        raise AnalysisError(
            f"{source_of(df)}: column {group!r} has {len(groups)} group(s) among the rows "
            "used; invariance needs at least two groups"
        )
    least = max(MIN_GROUP_ROWS, len(items) + 1)
    for g in groups:
        rows = complete.loc[complete[group] == g, items]
        if len(rows) < least:
            raise AnalysisError(
                f"{source_of(df)}: group {g!r} of column {group!r} has {len(rows)} usable "
                f"row(s); each group needs at least {least} (more than the {len(items)} items)"
            )
        flat = [item for item in items if rows[item].nunique() < 2]
        if flat:
            raise AnalysisError(
                f"{source_of(df)}: in group {g!r} of column {group!r} item(s) "
                f"{', '.join(map(repr, flat))} take a single value; every item must vary "
                "within every group"
            )
        if missing == "ml":
            answered = rows.notna().to_numpy(float)
            together = answered.T @ answered
            never = [(items[a], items[b]) for a in range(len(items)) for b in range(a)
                     if together[a, b] < 2]
            if never:
                raise AnalysisError(
                    f"{source_of(df)}: in group {g!r} of column {group!r} items {never[0][1]!r} "
                    f"and {never[0][0]!r} are answered together by fewer than two people; their "
                    "covariance cannot be estimated"
                )
            continue
        if np.linalg.matrix_rank(rows.to_numpy(float) - rows.to_numpy(float).mean(0)) < len(items):
            raise AnalysisError(
                f"{source_of(df)}: in group {g!r} of column {group!r} the items are linearly "
                "dependent (one is a combination of others); drop the redundant item"
            )
    return complete, groups, warnings


def _moments(x: np.ndarray) -> _Moments:
    """Return one group's answer patterns and its H1 moments (sample or EM), divisor N."""
    answered = ~np.isnan(x)
    keys, which = np.unique(answered, axis=0, return_inverse=True)
    patterns = []
    for k, key in enumerate(keys):
        rows = x[np.asarray(which).ravel() == k][:, key]
        mean = rows.mean(axis=0)
        centred = rows - mean
        patterns.append(_Pattern(len(rows), np.flatnonzero(key), mean, centred.T @ centred / len(rows)))
    if len(patterns) == 1 and answered.all():
        mean, cov = patterns[0].mean, patterns[0].cov
    else:
        mean, cov = _em(x, patterns)
    return _Moments(len(x), mean, cov, patterns, _minus2ll(patterns, mean, cov))


def _minus2ll(patterns: list[_Pattern], mu: np.ndarray, sigma: np.ndarray) -> float:
    """-2 log-likelihood of the patterns under N(mu, sigma), without the 2*pi term (inf if not PD)."""
    total = 0.0
    for pat in patterns:
        o = pat.observed
        s = sigma[np.ix_(o, o)]
        sign, logdet = np.linalg.slogdet(s)
        if sign <= 0:
            return float("inf")
        d = pat.mean - mu[o]
        total += pat.n * (logdet + float(np.sum(np.linalg.inv(s) * (pat.cov + np.outer(d, d)))))
    return total


def _em(x: np.ndarray, patterns: list[_Pattern], max_iter: int = 10000,
        tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """The saturated model's ML mean and covariance from incomplete rows, by EM (divisor N)."""
    n, p = x.shape
    mu = np.nanmean(x, axis=0)
    sigma = np.diag(np.nanvar(x, axis=0))
    for _ in range(max_iter):
        first, second = np.zeros(p), np.zeros((p, p))
        for pat in patterns:
            o = pat.observed
            m = np.setdiff1d(np.arange(p), o)
            # the pattern's sufficient statistics: sum of x_o and of x_o x_o'
            s1 = pat.n * pat.mean
            s2 = pat.n * (pat.cov + np.outer(pat.mean, pat.mean))
            full1 = np.zeros(p)
            full2 = np.zeros((p, p))
            full1[o] = s1
            full2[np.ix_(o, o)] = s2
            if len(m):
                b = sigma[np.ix_(m, o)] @ np.linalg.inv(sigma[np.ix_(o, o)])
                shift = mu[m] - b @ mu[o]
                full1[m] = pat.n * shift + b @ s1
                cross = np.outer(s1, shift) + s2 @ b.T  # sum x_o * E[x_m]'
                full2[np.ix_(o, m)] = cross
                full2[np.ix_(m, o)] = cross.T
                full2[np.ix_(m, m)] = (pat.n * (np.outer(shift, shift)
                                                + sigma[np.ix_(m, m)] - b @ sigma[np.ix_(o, m)])
                                       + b @ np.outer(s1, shift) + np.outer(shift, s1) @ b.T
                                       + b @ s2 @ b.T)
            first += full1
            second += full2
        new_mu = first / n
        new_sigma = second / n - np.outer(new_mu, new_mu)
        done = max(np.max(np.abs(new_mu - mu)), np.max(np.abs(new_sigma - sigma))) < tol
        mu, sigma = new_mu, new_sigma
        if done:
            break
    return mu, sigma


def _check_moments(df: pd.DataFrame, moments: list[_Moments], groups: list[Any], group: str,
                   items: list[str]) -> None:
    """Refuse a group whose saturated covariance is singular (items linearly dependent)."""
    for g, mo in zip(groups, moments, strict=True):
        if np.linalg.matrix_rank(mo.cov) < len(items) or not np.isfinite(mo.h1):
            raise AnalysisError(
                f"{source_of(df)}: in group {g!r} of column {group!r} the items are linearly "
                "dependent (one is a combination of others); drop the redundant item"
            )


def _layout(step: str, n_groups: int, item_factor: np.ndarray) -> _Layout:
    """Number the free parameters of one step, sharing indices for equality constraints."""
    p, m = len(item_factor), int(item_factor.max()) + 1
    counter = iter(range(10**9))
    markers = {int(np.flatnonzero(item_factor == f)[0]) for f in range(m)}

    def free(shared: bool, shape: tuple[int, ...], fixed: set[int] | None = None) -> np.ndarray:
        """Return indices per group: one shared set or a new set per group."""
        one = [-1 if fixed and j in fixed else next(counter) for j in range(int(np.prod(shape)))]
        out = [np.array(one).reshape(shape)]
        for _ in range(n_groups - 1):
            out.append(out[0] if shared else np.array(
                [-1 if fixed and j in fixed else next(counter) for j in range(int(np.prod(shape)))]
            ).reshape(shape))
        return np.stack(out)

    lam = free(step != "configural", (p,), markers)
    nu = free(step == "scalar", (p,))
    theta = free(False, (p,))
    phi = np.empty((n_groups, m, m), dtype=int)
    for g in range(n_groups):
        for a in range(m):
            for b in range(a + 1):
                phi[g, a, b] = phi[g, b, a] = next(counter)
    kappa = np.full((n_groups, m), -1)
    if step == "scalar":
        for g in range(1, n_groups):
            kappa[g] = [next(counter) for _ in range(m)]
    layout = _Layout(n_groups, item_factor, lam, phi, theta, nu, kappa)
    layout.n_free = next(counter)
    return layout


def _matrices(x: np.ndarray, lay: _Layout, g: int) -> tuple[np.ndarray, ...]:
    """Return Lambda, Phi, Theta (diagonal), nu and kappa of group ``g`` at parameters ``x``."""
    p, m = lay.lam.shape[1], lay.phi.shape[1]
    lam = np.zeros((p, m))
    lam[np.arange(p), lay.item_factor] = np.where(lay.lam[g] >= 0, x[lay.lam[g]], 1.0)
    phi = x[lay.phi[g]]
    theta = x[lay.theta[g]]
    nu = x[lay.nu[g]]
    kappa = np.where(lay.kappa[g] >= 0, x[lay.kappa[g]], 0.0)
    return lam, phi, theta, nu, kappa


def _objective(x: np.ndarray, lay: _Layout, moments: list[_Moments]) -> tuple[float, np.ndarray]:
    """Return the ML fit function per observation (chisq / N) and its gradient."""
    total = sum(mo.n for mo in moments)
    value, grad = 0.0, np.zeros_like(x)
    p = lay.lam.shape[1]
    for g, mo in enumerate(moments):
        lam, phi, theta, nu, kappa = _matrices(x, lay, g)
        sigma = lam @ phi @ lam.T + np.diag(theta)
        mu = nu + lam @ kappa
        try:
            np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return np.inf, grad
        value -= mo.h1 / total
        # d F / d Sigma and d F / d mu summed over the answer patterns, then the chain rule.
        dsigma, dmu = np.zeros((p, p)), np.zeros(p)
        for pat in mo.patterns:
            o = pat.observed
            inv = np.linalg.inv(sigma[np.ix_(o, o)])
            d = pat.mean - mu[o]
            c = pat.cov + np.outer(d, d)
            w = pat.n / total
            value += w * (float(np.linalg.slogdet(sigma[np.ix_(o, o)])[1]) + float(np.sum(inv * c)))
            dsigma[np.ix_(o, o)] += w * (inv - inv @ c @ inv)
            dmu[o] += -2.0 * w * (inv @ d)
        dlam = 2.0 * dsigma @ lam @ phi + np.outer(dmu, kappa)
        free_lam = lay.lam[g] >= 0
        np.add.at(grad, lay.lam[g][free_lam], dlam[np.arange(p), lay.item_factor][free_lam])
        np.add.at(grad, lay.phi[g].ravel(), (lam.T @ dsigma @ lam).ravel())
        np.add.at(grad, lay.theta[g], np.diag(dsigma))
        np.add.at(grad, lay.nu[g], dmu)
        free_k = lay.kappa[g] >= 0
        np.add.at(grad, lay.kappa[g][free_k], (lam.T @ dmu)[free_k])
    return value, grad


def _start(lay: _Layout, moments: list[_Moments]) -> np.ndarray:
    """Return starting values from the pooled moments: half of each variance is residual."""
    x = np.zeros(lay.n_free)
    total = sum(mo.n for mo in moments)
    pooled: np.ndarray = np.sum([mo.n * mo.cov for mo in moments], axis=0) / total
    for g, mo in enumerate(moments):
        for f in range(lay.phi.shape[1]):
            its = np.flatnonzero(lay.item_factor == f)
            marker = its[0]
            var_f = 0.5 * pooled[marker, marker]
            x[lay.phi[g, f, f]] = var_f
            for j in its[1:]:
                # the sign of the covariance (a reverse-keyed item loads negatively)
                ratio = pooled[j, marker] / var_f
                x[lay.lam[g, j]] = np.copysign(np.clip(abs(ratio), 0.1, 3.0), ratio)
        x[lay.theta[g]] = 0.5 * np.diag(mo.cov)
        shared = lay.nu[0, 0] == lay.nu[-1, 0]
        x[lay.nu[g]] = sum(m.n * m.mean for m in moments) / total if shared else mo.mean
    return x


def _fit_step(
    step: str, moments: list[_Moments], item_factor: np.ndarray, max_iter: int
) -> tuple[_Fitted, bool]:
    """Minimise the ML fit function of one step; return the estimates and whether it converged."""
    from scipy import optimize  # slow to import: only when used
    lay = _layout(step, len(moments), item_factor)
    x0 = _start(lay, moments)
    res = optimize.minimize(_objective, x0, args=(lay, moments), jac=True, method="BFGS",
                            options={"gtol": 1e-12, "maxiter": max_iter})
    value, grad = _objective(res.x, lay, moments)
    ok = bool(np.isfinite(value) and np.max(np.abs(grad)) < GRADIENT_TOLERANCE)
    return _Fitted(res.x, lay, value), ok


@dataclass(frozen=True)
class _Fitted:
    """The estimates of one step with their layout and the minimum of the fit function."""

    x: np.ndarray
    layout: _Layout
    fmin: float


def _step_result(
    step: str, fitted: _Fitted, ok: bool, moments: list[_Moments], factors: dict[str, list[str]],
    labels: list[str],
) -> StepFit:
    """Compute the fit indices of one fitted step, as lavaan's fitMeasures does."""
    from scipy import stats  # slow to import: only when used
    total = sum(mo.n for mo in moments)
    items = [item for its in factors.values() for item in its]
    n_groups, p = len(moments), len(items)
    chisq = total * fitted.fmin
    df = n_groups * p * (p + 3) // 2 - fitted.layout.n_free
    base_chisq = sum(_baseline(mo) - mo.h1 for mo in moments)
    base_df = n_groups * p * (p - 1) // 2
    gap, base_gap = max(chisq - df, 0.0), max(chisq - df, base_chisq - base_df, 0.0)
    cfi = 1.0 if base_gap == 0 else 1.0 - gap / base_gap
    tli = 1.0 if df == 0 else 1.0 - (chisq / df - 1.0) / (base_chisq / base_df - 1.0)
    rmsea = float(np.sqrt(max(chisq / total / df - 1.0 / total, 0.0)) * np.sqrt(n_groups)) \
        if df > 0 else 0.0
    loadings, intercepts, residuals, means, srmr = {}, {}, {}, {}, 0.0
    ses = _standard_errors(fitted, moments) if ok else None
    loading_ses: dict[str, dict[str, float | None]] = {}
    intercept_ses: dict[str, dict[str, float]] = {}
    for g, (mo, label) in enumerate(zip(moments, labels, strict=True)):
        if ses is not None:
            lay = fitted.layout
            loading_ses[label] = {item: (float(ses[k]) if k >= 0 else None)
                                  for item, k in zip(items, lay.lam[g].tolist(), strict=True)}
            intercept_ses[label] = {item: float(ses[k])
                                    for item, k in zip(items, lay.nu[g].tolist(), strict=True)}
        lam, phi, theta, nu, kappa = _matrices(fitted.x, fitted.layout, g)
        sigma = lam @ phi @ lam.T + np.diag(theta)
        mu = nu + lam @ kappa
        scale = 1.0 / np.sqrt(np.diag(mo.cov))
        resid = (mo.cov - sigma) * np.outer(scale, scale)
        parts = np.concatenate([resid[np.tril_indices(p)], (mo.mean - mu) * scale])
        srmr += mo.n / total * float(np.sqrt(np.mean(parts**2)))
        loadings[label] = dict(zip(items, lam[np.arange(p), fitted.layout.item_factor].tolist(),
                                   strict=True))
        intercepts[label] = dict(zip(items, nu.tolist(), strict=True))
        residuals[label] = dict(zip(items, theta.tolist(), strict=True))
        means[label] = dict(zip(factors, kappa.tolist(), strict=True))
    return StepFit(
        model=step, chisq=float(chisq), df=int(df),
        pvalue=float(stats.chi2.sf(chisq, df)) if df > 0 else float("nan"),
        cfi=float(cfi), tli=float(tli), rmsea=rmsea, srmr=srmr,
        baseline_chisq=float(base_chisq), baseline_df=int(base_df), converged=ok,
        loadings=loadings, intercepts=intercepts, residuals=residuals,
        loading_ses=loading_ses, intercept_ses=intercept_ses,
        factor_means=means,
    )


def _standard_errors(fitted: _Fitted, moments: list[_Moments]) -> np.ndarray | None:
    """Standard errors from the observed information: the Hessian of -log L at the estimates.

    -log L = N/2 * F + constant, so the information is N/2 times the Hessian of the fit
    function F, taken here by central differences of its analytic gradient (lavaan's
    ``information = "observed"``, its default with ``missing = "ml"``). None if it is singular.
    """
    total = sum(mo.n for mo in moments)
    x, k = fitted.x, len(fitted.x)
    hessian = np.empty((k, k))
    for j in range(k):
        step = 1e-5 * max(1.0, abs(x[j]))
        up, down = x.copy(), x.copy()
        up[j] += step
        down[j] -= step
        hessian[:, j] = (_objective(up, fitted.layout, moments)[1]
                         - _objective(down, fitted.layout, moments)[1]) / (2 * step)
    information = total / 2 * (hessian + hessian.T) / 2
    try:
        variance = np.diag(np.linalg.inv(information))
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(variance)) or np.any(variance <= 0):
        return None
    return np.sqrt(variance)


def _baseline(mo: _Moments) -> float:
    """-2 log-likelihood (no 2*pi term) of the baseline model: every item on its own.

    Its ML estimates are each item's available-case mean and variance (divisor N), since the
    likelihood of independent items factorises item by item, missing answers or not.
    """
    p = len(mo.mean)
    first, squares, count = np.zeros(p), np.zeros(p), np.zeros(p)
    for pat in mo.patterns:
        o = pat.observed
        count[o] += pat.n
        first[o] += pat.n * pat.mean
        squares[o] += pat.n * (np.diag(pat.cov) + pat.mean**2)
    mean = first / count
    variance = squares / count - mean**2
    return _minus2ll(mo.patterns, mean, np.diag(variance))


def _heywood_warnings(steps: list[StepFit]) -> list[str]:
    """Warn of negative residual variances (Heywood cases), which make a solution improper."""
    out = []
    for s in steps:
        for g, res in s.residuals.items():
            bad = [item for item, v in res.items() if v < 0]
            if bad:
                out.append(f"{s.model}: negative residual variance for {', '.join(bad)} in group "
                           f"{g} (an improper solution; interpret with care)")
    return out
