"""Reliability against psych 2.2.9 (reference/reference.R) and its error messages.

R's numbers are read from reference/reference.json through the `r_ref` fixture; each key is
the R call that produced the number. Alpha, the Feldt interval, corrected item-total
correlations and alpha-if-dropped are closed-form (the same formulas as psych), so they must
agree to rtol 1e-8; omega comes from an iterative factor fit, so it keeps 1e-3.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis import (
    AnalysisError,
    cronbach_alpha,
    item_total_correlations,
    mcdonald_omega,
    reliability_table,
)

ITEMS = [f"i{k}" for k in range(1, 7)]
CLOSED_FORM = 1e-8  # relative; today they agree to about 1e-15
ITERATIVE = 1e-3  # absolute, for omega's minres fit (psych's optimiser against scipy's)


def _wave1(items: pd.DataFrame, role: str | None = None) -> pd.DataFrame:
    rows = items["wave"] == 1
    if role is not None:
        rows &= items["role"] == role
    return items.loc[rows, ITEMS]


def test_alpha_and_feldt_interval_match_psych(items: pd.DataFrame, r_ref: dict[str, Any]) -> None:
    res = cronbach_alpha(_wave1(items))
    assert res.alpha == pytest.approx(r_ref["psych::alpha(w1)$total$raw_alpha"], rel=CLOSED_FORM)
    assert res.ci_low == pytest.approx(r_ref["psych::alpha(w1)$feldt$lower.ci"], rel=CLOSED_FORM)
    assert res.ci_high == pytest.approx(r_ref["psych::alpha(w1)$feldt$upper.ci"], rel=CLOSED_FORM)
    assert (res.n, res.k) == (150, 6)
    pw = cronbach_alpha(_wave1(items, "peer_worker"))
    assert pw.alpha == pytest.approx(r_ref["psych::alpha(pw)$total$raw_alpha"], rel=CLOSED_FORM)
    assert pw.ci_low == pytest.approx(r_ref["psych::alpha(pw)$feldt$lower.ci"], rel=CLOSED_FORM)
    assert pw.ci_high == pytest.approx(r_ref["psych::alpha(pw)$feldt$upper.ci"], rel=CLOSED_FORM)


def test_item_total_correlations_match_psych(items: pd.DataFrame, r_ref: dict[str, Any]) -> None:
    table = item_total_correlations(_wave1(items))
    assert_allclose(table["r_drop"], r_ref["psych::alpha(w1)$item.stats$r.drop"], rtol=CLOSED_FORM)
    assert_allclose(table["alpha_if_dropped"], r_ref["psych::alpha(w1)$alpha.drop$raw_alpha"],
                    rtol=CLOSED_FORM)
    # dropping the weakest item (i5) leaves a lower alpha than the whole scale's
    assert table.loc["i5", "alpha_if_dropped"] < r_ref["psych::alpha(w1)$total$raw_alpha"]


def test_omega_matches_psych(items: pd.DataFrame, r_ref: dict[str, Any]) -> None:
    assert mcdonald_omega(_wave1(items)).omega == pytest.approx(
        r_ref["psych::omega(w1, nfactors = 1)$omega.tot"], abs=ITERATIVE)
    # pw = wave 1 peer workers
    assert mcdonald_omega(_wave1(items, "peer_worker")).omega == pytest.approx(
        r_ref["psych::omega(pw, nfactors = 1)$omega.tot"], abs=ITERATIVE)


def test_reliability_table_per_wave_and_role(items: pd.DataFrame, r_ref: dict[str, Any]) -> None:
    table = reliability_table(items, ITEMS, by=["wave", "role"])
    assert len(table) == 4
    row = table[(table["wave"] == 1) & (table["role"] == "peer_worker")].iloc[0]
    assert row["n"] == 50
    assert row["alpha"] == pytest.approx(r_ref["psych::alpha(pw)$total$raw_alpha"], rel=CLOSED_FORM)
    assert row["alpha_ci_low"] == pytest.approx(r_ref["psych::alpha(pw)$feldt$lower.ci"], rel=CLOSED_FORM)
    assert row["alpha_ci_high"] == pytest.approx(r_ref["psych::alpha(pw)$feldt$upper.ci"], rel=CLOSED_FORM)
    assert row["omega"] == pytest.approx(r_ref["psych::omega(pw, nfactors = 1)$omega.tot"], abs=ITERATIVE)


def test_incomplete_rows_are_left_out(items: pd.DataFrame) -> None:
    data = _wave1(items).astype(float)
    full = cronbach_alpha(data)
    data.iloc[0, 2] = float("nan")
    assert cronbach_alpha(data).n == full.n - 1


def test_errors_say_what_is_wrong(items: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match="at least two items"):
        cronbach_alpha(items[["i1"]])
    with pytest.raises(AnalysisError, match=r"'i2' must be numeric.*'x'"):
        cronbach_alpha(items[["i1", "i2"]].astype(object).assign(i2="x"))
    with pytest.raises(AnalysisError, match=r"i3.*same answer"):
        mcdonald_omega(items[["i1", "i2", "i3"]].assign(i3=3))
    with pytest.raises(AnalysisError, match="only 2 row"):
        cronbach_alpha(items[ITEMS].head(2))
    with pytest.raises(AnalysisError, match="no column 'nope'"):
        reliability_table(items, [*ITEMS, "nope"])
