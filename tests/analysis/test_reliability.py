"""Reliability against psych 2.2.9 (reference/reference.R) and its error messages."""

from __future__ import annotations

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


def _wave1(items: pd.DataFrame, role: str | None = None) -> pd.DataFrame:
    rows = items["wave"] == 1
    if role is not None:
        rows &= items["role"] == role
    return items.loc[rows, ITEMS]


def test_alpha_and_feldt_interval_match_psych(items: pd.DataFrame) -> None:
    res = cronbach_alpha(_wave1(items))
    # psych::alpha(w1)$total$raw_alpha
    assert res.alpha == pytest.approx(0.853675490383, abs=1e-3)
    # psych::alpha(w1)$feldt: lower, upper
    assert res.ci_low == pytest.approx(0.81416920507, abs=1e-3)
    assert res.ci_high == pytest.approx(0.887176267572, abs=1e-3)
    assert (res.n, res.k) == (150, 6)


def test_item_total_correlations_match_psych_r_drop(items: pd.DataFrame) -> None:
    table = item_total_correlations(_wave1(items))
    # psych::alpha(w1)$item.stats$r.drop
    r_drop = [0.699741213744, 0.733374016211, 0.676872279110,
              0.571294429083, 0.554894808129, 0.606213276944]
    assert_allclose(table["r_drop"], r_drop, atol=1e-3)
    # dropping the weakest item (i5) leaves a lower alpha than the whole scale's 0.8537
    assert table.loc["i5", "alpha_if_dropped"] < 0.8537


def test_omega_matches_psych(items: pd.DataFrame) -> None:
    # psych::omega(w1, nfactors = 1)$omega.tot
    assert mcdonald_omega(_wave1(items)).omega == pytest.approx(0.854481435471, abs=1e-3)
    # psych::omega(pw, nfactors = 1)$omega.tot, pw = wave 1 peer workers
    pw = _wave1(items, "peer_worker")
    assert mcdonald_omega(pw).omega == pytest.approx(0.847429065891, abs=1e-3)
    # psych::alpha(pw)$total$raw_alpha
    assert cronbach_alpha(pw).alpha == pytest.approx(0.84629366306, abs=1e-3)


def test_reliability_table_per_wave_and_role(items: pd.DataFrame) -> None:
    table = reliability_table(items, ITEMS, by=["wave", "role"])
    assert len(table) == 4
    row = table[(table["wave"] == 1) & (table["role"] == "peer_worker")].iloc[0]
    assert row["n"] == 50
    assert row["alpha"] == pytest.approx(0.84629366306, abs=1e-3)  # psych::alpha(pw)
    assert row["alpha_ci_low"] < row["alpha"] < row["alpha_ci_high"]


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
