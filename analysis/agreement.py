"""Is it really a team score? ICC(1), ICC(2) and rwg(j), as R's multilevel package computes them.

* ICC(1) and ICC(2) come from the one-way analysis of variance of the scale score (the mean of
  a person's items) by team: with MSB and MSW the mean squares between and within teams and
  k = N / G the mean team size, ICC(1) = (MSB - MSW) / (MSB + (k - 1) MSW) and
  ICC(2) = (MSB - MSW) / MSB (``multilevel::ICC1(aov(score ~ team))`` and ``ICC2``).
* rwg(j) per team (``multilevel::rwg.j(items, team, ranvar)``): with S the mean of the item
  variances within the team (capped at ``ranvar``, so rwg(j) is never negative) and J items,
  rwg(j) = J (1 - S/ranvar) / (J (1 - S/ranvar) + S/ranvar). ``ranvar`` is the variance
  expected if nobody agreed; for answers spread evenly over A options it is (A^2 - 1) / 12
  (2 for five options, multilevel's default). A team of one has no rwg(j).

Rows missing the team or any item are left out (as multilevel's ``na.exclude``); the result
says how many.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.contract import (
    RowsUsed,
    distinct_names,
    label,
    numeric_column,
    require_columns,
    require_variation,
    source_of,
)
from analysis.errors import AnalysisError


def uniform_null_variance(options: int) -> float:
    """The variance of answers spread evenly over ``options`` answer options, (A^2 - 1) / 12."""
    if options < 2:
        raise AnalysisError(f"a rating scale needs at least two options, not {options}")
    return (options**2 - 1) / 12.0


@dataclass(frozen=True)
class AgreementResults:
    """ICC(1) and ICC(2) of a scale across teams, and rwg(j) per team."""

    items: list[str]
    group: str
    icc1: float
    icc2: float
    ranvar: float
    n_groups: int
    mean_group_size: float
    #: team label, its size, and its rwg(j) (NaN for a team of one)
    teams: pd.DataFrame
    rows: RowsUsed

    def to_dict(self) -> dict[str, Any]:
        """The one JSON object of ``python -m analysis agreement --json``."""
        return {
            "items": list(self.items), "group": self.group, "icc1": self.icc1,
            "icc2": self.icc2, "ranvar": self.ranvar, "n_groups": self.n_groups,
            "mean_group_size": self.mean_group_size,
            "teams": self.teams.to_dict(orient="records"), **self.rows.to_dict(),
        }

    def summary(self) -> str:
        """Plain text: the two ICCs, the rows used, and rwg(j) per team."""
        lines = [
            f"Agreement within {self.group} on {' + '.join(self.items)}: {self.n_groups} "
            f"group(s), mean size {self.mean_group_size:.2f}; {self.rows.sentence()}",
            f"ICC(1): {self.icc1:.4f}   ICC(2): {self.icc2:.4f}   "
            f"(one-way ANOVA of the mean of the items, as multilevel::ICC1 and ICC2)",
            f"rwg(j) against a null variance of {self.ranvar:.4f} (multilevel::rwg.j):",
            "",
        ]
        width = max([len(self.group), *(len(str(t)) for t in self.teams["group"])])
        lines.append(f"{self.group:<{width}}  {'size':>5}  {'rwg.j':>7}")
        for team, size, rwg in self.teams[["group", "size", "rwg_j"]].itertuples(index=False):
            value = "   –   " if not np.isfinite(rwg) else f"{rwg:>7.4f}"
            lines.append(f"{team:<{width}}  {size:>5d}  {value}")
        if (self.teams["size"] < 2).any():
            lines.append("– : a group of one has no within-group agreement")
        return "\n".join(lines)


def team_agreement(df: pd.DataFrame, items: Sequence[str], group: str,
                   ranvar: float = 2.0) -> AgreementResults:
    """ICC(1), ICC(2) of the mean of ``items`` by ``group``, and rwg(j) of ``items`` per group."""
    names = distinct_names(items)
    if not names:
        raise AnalysisError("name at least one item")
    if not ranvar > 0 or not np.isfinite(ranvar):
        raise AnalysisError(f"the null variance must be a positive number, not {ranvar}")
    require_columns(df, [*names, group])
    src = source_of(df)
    data = pd.DataFrame({c: numeric_column(df, c) for c in names})
    data["_group"] = df[group].map(lambda v: v if pd.isna(v) else label(v)).to_numpy()
    complete = data.dropna()
    rows = RowsUsed(len(data), len(complete), f"a missing {group} or item")
    if complete.empty:
        raise AnalysisError(f"{src}: no row has {group!r} and every item answered")
    score = complete[names].mean(axis=1)
    require_variation(score, " + ".join(names), src, what="mean of the items")
    sizes = complete.groupby("_group", sort=False).size()
    g, n = len(sizes), len(complete)
    if g < 2:
        raise AnalysisError(f"{src}: column {group!r} has {g} group among the rows used; "
                            "agreement across groups needs at least two")
    if n <= g:
        raise AnalysisError(f"{src}: every group has a single member ({n} rows, {g} groups); "
                            "the variance within groups cannot be estimated")
    means = score.groupby(complete["_group"], sort=False).transform("mean")
    msb = float(((means - score.mean()) ** 2).sum() / (g - 1))
    msw = float(((score - means) ** 2).sum() / (n - g))
    if msb == 0:
        raise AnalysisError(f"{src}: every {group} has the same mean score; ICC(2) is undefined")
    k = n / g
    icc1 = (msb - msw) / (msb + (k - 1) * msw)
    icc2 = (msb - msw) / msb
    teams = []
    for team, part in complete.groupby("_group", sort=False):
        teams.append({"group": team, "size": len(part), "rwg_j": _rwg_j(part[names], ranvar)})
    table = pd.DataFrame(teams)
    table = table.iloc[_label_order(table["group"])].reset_index(drop=True)
    return AgreementResults(names, group, float(icc1), float(icc2), float(ranvar), g, k,
                            table, rows)


def _rwg_j(items: pd.DataFrame, ranvar: float) -> float:
    """rwg(j) of one group, multilevel's formula (NaN for a group of one)."""
    if len(items) < 2:
        return float("nan")
    s = min(float(items.var(ddof=1).mean()), ranvar)
    j = items.shape[1]
    return j * (1 - s / ranvar) / (j * (1 - s / ranvar) + s / ranvar)


def _label_order(labels: pd.Series) -> list[int]:
    """Positions of the labels sorted as numbers when they all are numbers, else as text."""
    as_numbers = pd.to_numeric(labels, errors="coerce")
    keys = as_numbers if as_numbers.notna().all() else labels.astype(str)
    return list(np.argsort(keys.to_numpy(), kind="stable"))
