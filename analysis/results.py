"""Results of a growth model: tables, JSON, predicted trajectories and LR tests.

p-values and confidence intervals are Wald ones from the normal distribution (z), as
statsmodels reports them; lme4 reports no p-values for fixed effects.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError

if TYPE_CHECKING:
    import patsy  # type: ignore[import-untyped]
    from matplotlib.figure import Figure

    from analysis.growth import GrowthSpec

# scipy.stats.norm.ppf(0.975), written out so that importing results does not import scipy.
Z_95 = 1.959963984540054


def _two_sided_p(z: np.ndarray) -> np.ndarray:
    """2 P(Z > |z|) for a standard normal Z: erfc(|z| / sqrt 2), without importing scipy."""
    return np.array([math.erfc(abs(float(v)) / math.sqrt(2.0)) for v in np.ravel(z)], dtype=float)


def _stats() -> Any:
    """scipy.stats, imported on first use (it is slow to import, and the web app rarely needs it)."""
    from scipy import stats

    return stats


def json_safe(value: Any) -> Any:
    """The value with numpy scalars made Python ones and NaN or infinity made None, all the way down.

    Strict JSON has no NaN; a fit can still give one (a standard error from a variance that
    came out negative), and every caller (CLI, research download, API) then shows null.
    """
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class RandomEffects:
    """Standard deviations (and the intercept-slope correlation) of the random effects."""

    subject_sd: dict[str, float]
    subject_corr: float | None
    group_sd: float | None


@dataclass
class GrowthResults:
    """A fitted growth model, in the quantities lme4 reports."""

    spec: GrowthSpec
    engine: str
    data: pd.DataFrame
    design_info: patsy.DesignInfo
    term_names: list[str]
    beta: np.ndarray
    vcov: np.ndarray
    random_effects: RandomEffects
    residual_sd: float
    loglik: float
    n_cov_params: int
    n_subjects: int
    n_groups: int | None
    converged: bool
    optimizer: str
    warnings: list[str] = field(default_factory=list)

    @property
    def method(self) -> str:
        """Return "REML" or "ML"."""
        return self.spec.method

    @property
    def n_obs(self) -> int:
        """Return the number of observations used."""
        return len(self.data)

    @property
    def n_params(self) -> int:
        """Return the number of estimated parameters (fixed, covariance, residual)."""
        return len(self.beta) + self.n_cov_params + 1

    @property
    def aic(self) -> float:
        """Return AIC from the (REML or ML) log-likelihood, as lme4's AIC()."""
        return -2.0 * self.loglik + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        """Return BIC from the (REML or ML) log-likelihood, as lme4's BIC()."""
        return -2.0 * self.loglik + np.log(self.n_obs) * self.n_params

    @property
    def se(self) -> np.ndarray:
        """Return the standard errors of the fixed effects."""
        return np.sqrt(np.diag(self.vcov))

    @property
    def fixed_effects(self) -> pd.DataFrame:
        """Return a table of estimate, SE, Wald 95% CI, z and p per fixed-effect term."""
        se = self.se
        z = self.beta / se
        return pd.DataFrame(
            {
                "estimate": self.beta,
                "se": se,
                "ci_low": self.beta - Z_95 * se,
                "ci_high": self.beta + Z_95 * se,
                "z": z,
                "p": _two_sided_p(z),
            },
            index=pd.Index(self.term_names, name="term"),
        )

    @property
    def icc(self) -> dict[str, float]:
        """Return the share of variance at time zero due to subjects (and teams)."""
        re = self.random_effects
        v_subject = re.subject_sd["Intercept"] ** 2
        v_group = 0.0 if re.group_sd is None else re.group_sd**2
        total = v_subject + v_group + self.residual_sd**2
        out = {"subject": v_subject / total}
        if re.group_sd is not None:
            out["group"] = v_group / total
        return out

    def require_convergence(self) -> None:
        """Raise an AnalysisError if the optimiser did not converge."""
        if not self.converged:
            raise AnalysisError(
                f"the model did not converge, so no estimates are reported ({self.optimizer}). "
                "Try a higher iteration limit (--max-iter), time in larger units (e.g. years "
                "instead of months), or a simpler model (without the team level or 'by')."
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the results as the JSON object the CLI prints with --json (NaN as None)."""
        fe = self.fixed_effects
        re = self.random_effects
        return json_safe({
            "formula": self.spec.formula,
            "method": self.method,
            "n_obs": self.n_obs,
            "n_subjects": self.n_subjects,
            "n_groups": self.n_groups,
            "fixed_effects": [
                {
                    "term": term,
                    "estimate": float(row.estimate),
                    "se": float(row.se),
                    "ci_low": float(row.ci_low),
                    "ci_high": float(row.ci_high),
                    "p": float(row.p),
                }
                for term, row in fe.iterrows()
            ],
            "random_effects": {
                "subject": {"sd": dict(re.subject_sd), "corr": re.subject_corr},
                "group": None if re.group_sd is None else {"sd": re.group_sd},
            },
            "residual_sd": self.residual_sd,
            "loglik": self.loglik,
            "aic": self.aic,
            "bic": self.bic,
            "converged": self.converged,
            "warnings": list(self.warnings),
        })

    def to_json(self, indent: int | None = None) -> str:
        """Return the results as strict JSON text: the one form the CLI, web page and API serve."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def summary(self) -> str:
        """Return a plain-text report of the fit."""
        lines = [
            f"Linear mixed model fit by {self.method} ({self.engine} engine)",
            f"Formula: {self.spec.formula}",
            f"Observations: {self.n_obs}   {self.spec.subject}: {self.n_subjects}"
            + ("" if self.n_groups is None else f"   {self.spec.group}: {self.n_groups}"),
            f"logLik: {self.loglik:.3f}   AIC: {self.aic:.3f}   BIC: {self.bic:.3f}",
            f"Converged: {'yes' if self.converged else 'NO - do not use these estimates'}",
            "",
            "Random effects (SD):",
        ]
        re = self.random_effects
        for term, sd in re.subject_sd.items():
            lines.append(f"  {self.spec.subject:<14} {term:<24} {sd:10.5f}")
        if re.subject_corr is not None:
            lines.append(f"  {'':<14} {'corr(Intercept, slope)':<24} {re.subject_corr:10.4f}")
        if re.group_sd is not None:
            lines.append(f"  {self.spec.group!s:<14} {'Intercept':<24} {re.group_sd:10.5f}")
        lines.append(f"  {'Residual':<14} {'':<24} {self.residual_sd:10.5f}")
        icc = ", ".join(f"{k} {v:.3f}" for k, v in self.icc.items())
        lines += [f"ICC at time 0: {icc}", "", "Fixed effects (Wald z tests and 95% CIs):"]
        lines.append(self.fixed_effects.to_string(float_format=lambda v: f"{v:.5g}"))
        if self.warnings:
            lines += ["", "Warnings:", *(f"  - {w}" for w in self.warnings)]
        return "\n".join(lines)

    def _design_rows(self, newdata: pd.DataFrame) -> np.ndarray:
        """Build fixed-effect design rows for new data with the model's coding."""
        import patsy  # slow to import: only when predictions are asked for

        (x,) = patsy.build_design_matrices([self.design_info], newdata)
        return np.asarray(x, dtype=float)

    def linear_combination(self, rows: np.ndarray) -> pd.DataFrame:
        """Return estimate, SE and Wald 95% CI of each row of ``rows @ beta``."""
        est = rows @ self.beta
        se = np.sqrt(np.einsum("ij,jk,ik->i", rows, self.vcov, rows))
        return pd.DataFrame(
            {"estimate": est, "se": se, "ci_low": est - Z_95 * se, "ci_high": est + Z_95 * se}
        )

    def levels(self) -> list[Any]:
        """Return the levels of the between-subject factor (or [None] without one)."""
        if self.spec.by is None:
            return [None]
        return sorted(self.data[self.spec.by].unique())

    def _grid(self, times: np.ndarray) -> pd.DataFrame:
        """Return every time paired with every level of ``by``."""
        frames = []
        for level in self.levels():
            frame = pd.DataFrame({self.spec.time: times})
            if self.spec.by is not None:
                frame[self.spec.by] = level
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def predict_trajectories(self, times: np.ndarray | None = None) -> pd.DataFrame:
        """Return the predicted mean trajectory per level of ``by`` with 95% confidence bands."""
        if times is None:
            t = self.data[self.spec.time]
            times = np.linspace(float(t.min()), float(t.max()), 25)
        grid = self._grid(np.asarray(times, dtype=float))
        return pd.concat([grid, self.linear_combination(self._design_rows(grid))], axis=1)

    def change_by_level(self, time_from: float, time_to: float) -> pd.DataFrame:
        """Return the model's estimated change from ``time_from`` to ``time_to`` per level."""
        start = self._design_rows(self._grid(np.array([time_from])))
        end = self._design_rows(self._grid(np.array([time_to])))
        out = self.linear_combination(end - start)
        if self.spec.by is not None:
            out.insert(0, self.spec.by, self.levels())
        return out

    def plot_trajectories(
        self, path: str | Path | None = None, observed_by: str | None = None
    ) -> Figure:
        """Plot predicted trajectories beside observed means; save as PNG or SVG if a path is given."""
        from analysis.plots import plot_trajectories

        return plot_trajectories(self, path, observed_by)


@dataclass(frozen=True)
class LRTResult:
    """A likelihood-ratio test between nested models fitted by ML."""

    statistic: float
    df: int
    p: float
    loglik_restricted: float
    loglik_full: float

    def to_dict(self) -> dict[str, float | None]:
        """Return the test as a plain dict (NaN as None)."""
        return json_safe({
            "statistic": self.statistic,
            "df": self.df,
            "p": self.p,
            "loglik_restricted": self.loglik_restricted,
            "loglik_full": self.loglik_full,
        })


def likelihood_ratio_test(restricted: GrowthResults, full: GrowthResults) -> LRTResult:
    """Compare nested ML fits: 2 (logLik_full - logLik_restricted) against chi-squared."""
    for name, res in (("restricted", restricted), ("full", full)):
        if res.method != "ML":
            raise AnalysisError(
                f"the {name} model was fitted by REML; likelihood-ratio tests need both "
                "models fitted by ML (method='ML')"
            )
        res.require_convergence()
    if restricted.n_obs != full.n_obs or restricted.spec.outcome != full.spec.outcome:
        raise AnalysisError(
            "the models were fitted to different data (outcome or number of observations "
            "differ); likelihood-ratio tests need the same rows"
        )
    df = full.n_params - restricted.n_params
    if df <= 0:
        raise AnalysisError(
            f"the full model has {full.n_params} parameters and the restricted one "
            f"{restricted.n_params}; pass the smaller model first"
        )
    stat = max(0.0, 2.0 * (full.loglik - restricted.loglik))
    return LRTResult(stat, df, float(_stats().chi2.sf(stat, df)), restricted.loglik, full.loglik)
