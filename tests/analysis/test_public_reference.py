"""Reliability and team agreement against R on public data sets R ships (reference/public.R).

psych 2.2.9's ``alpha`` on its ``bfi`` items and multilevel 2.7's ``ICC1``, ``ICC2`` and
``rwg.j`` on its ``lq2002`` companies. Both data sets were written by their packages' authors,
not by us; public.R writes them to bfi.csv and lq2002.csv and prints each number below beside
the R call that produced it (public.out). All are closed-form, so they must agree to 1e-10.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis import cronbach_alpha, read_csv
from analysis.agreement import team_agreement, uniform_null_variance
from analysis.cli import main

REFERENCE = Path(__file__).resolve().parent / "reference"
RTOL = 1e-10
A_ITEMS = [f"A{k}" for k in range(1, 6)]
C_ITEMS = [f"C{k}" for k in range(1, 6)]
LEAD = [f"LEAD{k:02d}" for k in range(1, 12)]
HOSTIL = [f"HOSTIL{k:02d}" for k in range(1, 6)]

LEAD_RWG_J = {  # multilevel::rwg.j(lead, lq2002$COMPID, ranvar = 2): grpid -> (rwg.j, gsize)
    2: (0.80752725839646189, 24),
    3: (0.89593831505912735, 37),
    4: (0.86001202043473901, 45),
    5: (0.86355845046280422, 58),
    6: (0.88766285562350444, 12),
    7: (0.9330486202365309, 15),
    9: (0.89087081763793474, 13),
    10: (0.84949773086533065, 29),
    13: (0.88258803397276098, 99),
    14: (0.8260377358490566, 10),
    15: (0.87228838076564508, 89),
    16: (0.81819018687287115, 23),
    17: (0.94183006535947711, 10),
    18: (0.7979940157372406, 94),
    19: (0.90370216306156403, 13),
    20: (0.77489959957775789, 68),
    21: (0.85264360313315934, 53),
    22: (0.87010766307789744, 25),
    23: (0.8927663114052673, 54),
    24: (0.77920863022968834, 37),
    25: (0.90924733250024026, 41),
    26: (0.86537396121883658, 21),
    27: (0.82745365251600633, 73),
    28: (0.90761343728406607, 68),
    29: (0.84255319148936181, 85),
    30: (0.9056801550571576, 29),
    31: (0.9165040794608017, 19),
    32: (0.81320719380296635, 68),
    33: (0.83485857216676285, 77),
    34: (0.84461503860332232, 78),
    35: (0.90041212217975708, 58),
    37: (0.92944400939702421, 10),
    38: (0.93442906574394458, 30),
    41: (0.89774738670139931, 78),
    42: (0.83751478034138793, 54),
    43: (0.86972030706683534, 74),
    44: (0.80378675825415524, 63),
    45: (0.89681528662420384, 30),
    46: (0.8996589358799455, 90),
    47: (0.88633938100320175, 14),
    48: (0.87756304501531934, 13),
    49: (0.82595662793279545, 18),
    50: (0.94230670169474062, 23),
    52: (0.79056805632247373, 39),
    54: (0.92672305502051755, 19),
    55: (0.86189624329159209, 11),
    56: (0.80262629507670069, 18),
    57: (0.83436532507739936, 13),
    58: (0.93610764569595439, 20),
}


@pytest.fixture(scope="module")
def bfi() -> pd.DataFrame:
    """psych's bfi items as public.R wrote them (empty cells where R has NA)."""
    return read_csv(REFERENCE / "bfi.csv")


@pytest.fixture(scope="module")
def lq2002() -> pd.DataFrame:
    """multilevel's lq2002 as public.R wrote it."""
    return read_csv(REFERENCE / "lq2002.csv")


def test_alpha_of_items_needing_reversal_equals_psych_and_names_them(bfi: pd.DataFrame) -> None:
    res = cronbach_alpha(bfi[A_ITEMS])
    assert res.n == 2709  # nrow(na.omit(bfi[, paste0("A", 1:5)]))
    assert res.rows_read == 2800
    assert res.alpha == pytest.approx(0.43061692304809412, rel=RTOL)  # psych::alpha(A)$total$raw_alpha
    assert res.std_alpha == pytest.approx(0.45742649586417039, rel=RTOL)  # psych::alpha(A)$total$std.alpha
    assert res.ci_low == pytest.approx(0.39599916674639357, rel=RTOL)  # psych::alpha(A)$feldt$lower.ci
    assert res.ci_high == pytest.approx(0.46382932572753244, rel=RTOL)  # psych::alpha(A)$feldt$upper.ci
    # psych: "Some items ( A1 ) were negatively correlated with the total scale and probably
    # should be reversed."
    assert res.reverse == ("A1",)
    assert "A1" in res.warnings[0] and "reversed" in res.warnings[0]


def test_reversing_the_named_item_gives_psychs_check_keys_alpha(bfi: pd.DataFrame) -> None:
    items = bfi[A_ITEMS].assign(A1=7 - bfi["A1"])
    res = cronbach_alpha(items)
    assert res.alpha == pytest.approx(0.7037558943748361, rel=RTOL)  # psych::alpha(A2)$total$raw_alpha
    # the same number as psych::alpha(A, check.keys = TRUE)$total$raw_alpha
    assert res.std_alpha == pytest.approx(0.71350155263464288, rel=RTOL)  # psych::alpha(A2)$total$std.alpha
    assert res.reverse == () and res.warnings == []


def test_negative_alpha_is_reported_with_a_warning_naming_the_items(bfi: pd.DataFrame) -> None:
    res = cronbach_alpha(bfi[C_ITEMS])
    assert res.n == 2707  # nrow(na.omit(bfi[, paste0("C", 1:5)]))
    assert res.alpha == pytest.approx(-0.28900374798299516, rel=RTOL)  # psych::alpha(C)$total$raw_alpha
    assert res.std_alpha == pytest.approx(-0.23252004772516183, rel=RTOL)  # psych::alpha(C)$total$std.alpha
    assert res.ci_low == pytest.approx(-0.36740306905977449, rel=RTOL)  # psych::alpha(C)$feldt$lower.ci
    assert res.ci_high == pytest.approx(-0.21378830299429552, rel=RTOL)  # psych::alpha(C)$feldt$upper.ci
    # psych: "Some items ( C4 C5 ) were negatively correlated with the total scale ..."
    assert res.reverse == ("C4", "C5")
    assert any("negative" in w and "-0.2890" in w for w in res.warnings)


def test_reliability_cli_prints_the_warning_and_std_alpha(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reliability", str(REFERENCE / "bfi.csv"), "--items", *C_ITEMS]) == 0
    out = capsys.readouterr().out
    assert "Standardised alpha (psych's std.alpha): -0.2325" in out
    assert "used 2707 of 2800 rows" in out
    assert "warning: item(s) C4, C5 correlate negatively" in out


def test_icc1_icc2_equal_multilevel(lq2002: pd.DataFrame) -> None:
    lead = team_agreement(lq2002, LEAD, "COMPID")
    assert lead.icc1 == pytest.approx(0.087956218521601084, rel=RTOL)  # multilevel::ICC1(aov(lead_mean ~ as.factor(COMPID), data = lq2002))
    assert lead.icc2 == pytest.approx(0.80075437301325969, rel=RTOL)  # multilevel::ICC2(aov(lead_mean ~ as.factor(COMPID), data = lq2002))
    hostil = team_agreement(lq2002, HOSTIL, "COMPID")
    assert hostil.icc1 == pytest.approx(0.054004942791579032, rel=RTOL)  # multilevel::ICC1(aov(hostil_mean ~ as.factor(COMPID), data = lq2002))
    assert hostil.icc2 == pytest.approx(0.704059183926384, rel=RTOL)  # multilevel::ICC2(aov(hostil_mean ~ as.factor(COMPID), data = lq2002))
    assert (lead.n_groups, lead.rows.used) == (49, 2042)


def test_rwg_j_per_team_equals_multilevel(lq2002: pd.DataFrame) -> None:
    lead = team_agreement(lq2002, LEAD, "COMPID", ranvar=uniform_null_variance(5))
    got = {int(g): (r, n) for g, n, r in lead.teams[["group", "size", "rwg_j"]].itertuples(index=False)}
    assert list(got) == list(LEAD_RWG_J)  # R's order: companies sorted as numbers
    for team, (rwg, size) in LEAD_RWG_J.items():
        assert got[team][1] == size
        assert got[team][0] == pytest.approx(rwg, rel=RTOL), team
    hostil = team_agreement(lq2002, HOSTIL, "COMPID").teams["rwg_j"]
    assert hostil.mean() == pytest.approx(0.56489607495092264, rel=RTOL)  # mean(multilevel::rwg.j(hostil, lq2002$COMPID, ranvar = 2)$rwg.j)
    # some companies disagree more than chance: S is capped at ranvar, so rwg.j is 0, not negative
    assert hostil.min() == 0.0  # min(multilevel::rwg.j(hostil, lq2002$COMPID, ranvar = 2)$rwg.j)


def test_agreement_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agreement", str(REFERENCE / "lq2002.csv"), "--items", *LEAD,
                 "--group", "COMPID", "--options", "5", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["icc1"] == pytest.approx(0.087956218521601084, rel=RTOL)  # multilevel::ICC1(...), as above
    assert doc["ranvar"] == 2.0  # (5^2 - 1) / 12, multilevel's default ranvar
    assert doc["rows_used"] == 2042 and doc["rows_dropped"] == 0
    assert doc["teams"][0] == {"group": "2", "size": 24, "rwg_j": pytest.approx(LEAD_RWG_J[2][0], rel=RTOL)}


def test_agreement_text_names_a_team_of_one() -> None:
    frame = pd.DataFrame({"team": [1, 1, 1, 2, 2, 3], "a": [1, 2, 3, 4, 5, 2], "b": [2, 2, 3, 5, 5, 1]})
    res = team_agreement(frame, ["a", "b"], "team")
    assert list(res.teams["group"]) == ["1", "2", "3"]
    assert "a group of one has no within-group agreement" in res.summary()
    assert "nan" not in res.summary().lower()
