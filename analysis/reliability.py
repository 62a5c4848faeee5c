"""Internal consistency: Cronbach's alpha (Feldt CI), McDonald's omega, item-total correlations.

All three use complete cases (rows with every item answered); ``n`` says how many.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.contract import RowsUsed, distinct_names, native
from analysis.datasets import numeric_column, require_columns, source_of
from analysis.errors import AnalysisError

#: Fewest complete rows that reliability is computed from.
MIN_ROWS = 3


@dataclass(frozen=True)
class AlphaResult:
    """Cronbach's alpha with its Feldt 95% confidence interval."""

    alpha: float
    ci_low: float
    ci_high: float
    n: int
    k: int
    #: psych's std.alpha: alpha of the standardised items, k r / (1 + (k - 1) r) of the mean r
    std_alpha: float = float("nan")
    #: rows given (``n`` of them answered every item and were used)
    rows_read: int = 0
    #: items loading negatively on the first principal component (psych: "probably should
    #: be reversed"); reverse-key them before reading alpha
    reverse: tuple[str, ...] = ()

    @property
    def warnings(self) -> list[str]:
        """psych's warnings in words: items to reverse, and a negative alpha."""
        notes = []
        if self.reverse:
            notes.append(
                f"item(s) {', '.join(self.reverse)} correlate negatively with the total scale "
                "(the first principal component) and probably should be reversed before alpha "
                "is read (psych::alpha warns the same; reverse-key them, e.g. 6 - x on a 1-5 scale)"
            )
        if self.alpha < 0:
            notes.append(
                f"alpha is negative ({self.alpha:.4f}): the items do not measure one thing in the "
                "same direction; a negative alpha is not a reliability"
            )
        return notes

    def rows_sentence(self) -> str:
        """How many rows were used and why the others were left out."""
        return RowsUsed(self.rows_read or self.n, self.n,
                        "an item not answered (complete rows only)").sentence()


@dataclass(frozen=True)
class OmegaResult:
    """McDonald's omega total from a one-factor (minres) model, with the loadings."""

    omega: float
    loadings: pd.Series
    n: int


def complete_items(items: pd.DataFrame) -> pd.DataFrame:
    """Return the items as floats, complete rows only; raise if too little is left."""
    distinct_names(items.columns)
    if items.shape[1] < 2:
        raise AnalysisError(
            f"{source_of(items)}: reliability needs at least two items, got {items.shape[1]}"
        )
    numeric = pd.DataFrame({c: numeric_column(items, c) for c in items.columns})
    numeric.attrs = dict(items.attrs)
    complete = numeric.dropna()
    if len(complete) < MIN_ROWS:
        raise AnalysisError(
            f"{source_of(items)}: only {len(complete)} row(s) answer every item "
            f"({', '.join(map(str, items.columns))}); reliability needs at least {MIN_ROWS}"
        )
    constant = [str(c) for c in complete.columns if complete[c].std(ddof=1) == 0]
    if constant:
        raise AnalysisError(
            f"{source_of(items)}: item(s) {', '.join(constant)} have the same answer in every "
            "complete row, so they carry no information about consistency; leave them out"
        )
    return complete


def cronbach_alpha(items: pd.DataFrame, confidence: float = 0.95) -> AlphaResult:
    """Return alpha = k/(k-1) (1 - sum item variances / total variance), with Feldt's CI."""
    x = complete_items(items)
    n, k = x.shape
    item_var = x.var(ddof=1).sum()
    total_var = x.sum(axis=1).var(ddof=1)
    alpha = k / (k - 1) * (1.0 - item_var / total_var)
    tail = (1.0 - confidence) / 2.0
    df1, df2 = n - 1, (n - 1) * (k - 1)
    from scipy import stats  # slow to import: only when a reliability is computed

    low = 1.0 - (1.0 - alpha) * stats.f.ppf(1.0 - tail, df1, df2)
    high = 1.0 - (1.0 - alpha) * stats.f.ppf(tail, df1, df2)
    corr = x.corr().to_numpy()
    mean_r = corr[np.triu_indices(k, 1)].mean()
    std_alpha = k * mean_r / (1.0 + (k - 1) * mean_r)
    return AlphaResult(float(alpha), float(low), float(high), n, k, float(std_alpha),
                       len(items), tuple(reversed_items(x.columns, corr)))


def reversed_items(names: Sequence[object], corr: np.ndarray) -> list[str]:
    """Items loading negatively on the first principal component, signed as psych::principal.

    psych::alpha warns "Some items ( ... ) were negatively correlated with the total scale
    and probably should be reversed" exactly when one of these loadings is negative; the
    component is signed so that its loadings sum to a positive number.
    """
    values, vectors = np.linalg.eigh(corr)
    first = vectors[:, -1] * np.sqrt(max(values[-1], 0.0))
    first = first if first.sum() >= 0 else -first
    return [str(n) for n, v in zip(names, first, strict=True) if v < 0]


def one_factor_loadings(corr: np.ndarray) -> np.ndarray:
    """Fit one factor by minimum residuals (unweighted least squares off the diagonal)."""
    k = corr.shape[0]
    rows, cols = np.triu_indices(k, 1)
    values, vectors = np.linalg.eigh(corr)
    start = vectors[:, -1] * np.sqrt(values[-1])
    start = start if start.sum() >= 0 else -start
    from scipy import optimize  # slow to import: only when omega is computed

    fit = optimize.least_squares(
        lambda lam: corr[rows, cols] - lam[rows] * lam[cols], start, xtol=1e-14, ftol=1e-14
    )
    loadings = np.asarray(fit.x, dtype=float)
    return loadings if loadings.sum() >= 0 else -loadings


def mcdonald_omega(items: pd.DataFrame) -> OmegaResult:
    """Return omega total, 1 - sum of uniquenesses / sum of the correlation matrix.

    This is psych::omega's omega.tot with one factor: the uniquenesses are ``1 - loading^2``
    of a minres fit to the correlation matrix, and the total variance is that of the sum
    score of standardised items.
    """
    x = complete_items(items)
    corr = x.corr().to_numpy()
    loadings = one_factor_loadings(corr)
    omega = 1.0 - np.sum(1.0 - loadings**2) / corr.sum()
    return OmegaResult(float(omega), pd.Series(loadings, index=x.columns), len(x))


def item_total_correlations(items: pd.DataFrame) -> pd.DataFrame:
    """Return per item the corrected item-total correlation and alpha if the item is dropped."""
    x = complete_items(items)
    total = x.sum(axis=1)
    rows = []
    for col in x.columns:
        rest = x.drop(columns=col)
        rows.append(
            {
                "item": col,
                "r_drop": float(np.corrcoef(x[col], total - x[col])[0, 1]),
                "alpha_if_dropped": _alpha_value(rest) if rest.shape[1] >= 2 else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("item")


def _alpha_value(x: pd.DataFrame) -> float:
    """Return alpha of complete numeric items without checks."""
    k = x.shape[1]
    return float(k / (k - 1) * (1.0 - x.var(ddof=1).sum() / x.sum(axis=1).var(ddof=1)))


def reliability_table(
    df: pd.DataFrame, items: Sequence[str], by: Sequence[str] = ()
) -> pd.DataFrame:
    """Return n, alpha with Feldt CI and omega for each group of ``by`` (e.g. scale, wave, role)."""
    require_columns(df, [*items, *by])
    groups = df.groupby(list(by), sort=True) if by else [((), df)]
    rows = []
    for key, part in groups:
        sub = part[list(items)]
        sub.attrs = dict(df.attrs)
        a = cronbach_alpha(sub)
        o = mcdonald_omega(sub)
        keys = key if isinstance(key, tuple) else (key,)
        rows.append(
            {
                **dict(zip(by, map(native, keys), strict=True)),
                "n": a.n,
                "rows_read": a.rows_read,
                "alpha": a.alpha,
                "alpha_ci_low": a.ci_low,
                "alpha_ci_high": a.ci_high,
                "std_alpha": a.std_alpha,
                "omega": o.omega,
                "warning": "; ".join(a.warnings),
            }
        )
    return pd.DataFrame(rows)
