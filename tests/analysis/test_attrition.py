"""Attrition: Welch intervals against R's t.test, missing-wave patterns, retention.

Constants from reference/attrition.R (output in attrition.out) on reference/growth.csv.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis import AnalysisError
from analysis.attrition import retention, stayers_and_leavers, wave_patterns, welch_difference

# a: wave-1 scores of those who answered wave 5; b: of those who did not.
# c(length(a), length(b), mean(a), mean(b))
GROUPS = [134, 16, 2.97049328358, 3.09415625000]
# t.test(a, b, var.equal = FALSE)$conf.int
CI = [-0.609419916883, 0.362093984047]
# t.test(a, b, var.equal = FALSE)$parameter
DF = 17.7477816075
# t.test(a, b, var.equal = FALSE)$p.value
P = 0.599023208012
# sort(table(pattern), decreasing = TRUE)
PATTERNS = {"XXXXX": 75, "X.XXX": 19, "XXX.X": 16, "XX.XX": 15, "XXXX.": 11, "XX..X": 5,
            "X.X.X": 4, "XX.X.": 2, "XXX..": 2, "X.XX.": 1}


def test_stayers_and_leavers_match_r_welch(growth: pd.DataFrame) -> None:
    table = stayers_and_leavers(growth)
    assert len(table) == 1
    row = table.iloc[0]
    assert (row.scale, row.n_stayed, row.n_left) == ("identity", GROUPS[0], GROUPS[1])
    assert_allclose([row.mean_stayed, row.mean_left], GROUPS[2:], rtol=1e-10)
    assert_allclose([row.ci_low, row.ci_high], CI, rtol=1e-8)
    assert_allclose(row.difference, GROUPS[2] - GROUPS[3], rtol=1e-9)
    assert_allclose([row.df, row.p], [DF, P], rtol=1e-8)
    assert row.note == ""


def test_wave_patterns_match_r_table(growth: pd.DataFrame) -> None:
    table = wave_patterns(growth)
    assert dict(zip(table["pattern"], table["n"], strict=True)) == PATTERNS
    assert table["n"].is_monotonic_decreasing
    assert table["share"].sum() == pytest.approx(1.0)


def test_retention_counts_the_first_wave_cohort(growth: pd.DataFrame) -> None:
    overall = retention(growth)
    assert overall["cohort"].eq(150).all()
    last = overall.iloc[-1]
    assert (last.wave, last.retained) == (5, GROUPS[0])
    assert last.retention == pytest.approx(134 / 150)
    by_role = retention(growth, by=["role"])
    assert set(by_role["role"]) == {"peer_worker", "colleague"}
    assert by_role.loc[by_role["wave"] == 1, "cohort"].sum() == 150
    assert by_role.loc[by_role["wave"] == 5, "retained"].sum() == GROUPS[0]


def test_patterns_include_waves_nobody_answered() -> None:
    frame = pd.DataFrame({"participant": ["a", "a", "b"], "wave": [1, 3, 1]})
    table = wave_patterns(frame, waves=[1, 2, 3])
    assert dict(zip(table["pattern"], table["n"], strict=True)) == {"X.X": 1, "X..": 1}


def test_too_few_or_flat_scores_are_plain_errors() -> None:
    with pytest.raises(AnalysisError, match="at least two scores"):
        welch_difference([1.0, 2.0], [3.0])
    with pytest.raises(AnalysisError, match="every score is the same"):
        welch_difference([2.0, 2.0], [2.0, 2.0])
    one_wave = pd.DataFrame({"participant": ["a", "b"], "wave": [1, 1], "scale": "s", "score": [1, 2]})
    with pytest.raises(AnalysisError, match="only one wave"):
        stayers_and_leavers(one_wave)


def test_cli_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from analysis.cli import main
    from tests.analysis.conftest import REFERENCE

    assert main(["attrition", str(REFERENCE / "growth.csv"), "--by", "role", "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    doc = json.loads(out)
    assert set(doc) == {"rows_read", "patterns", "retention", "retention_by", "baseline",
                        "baseline_note"}
    assert doc["baseline_note"] == ""
    assert {p["pattern"]: p["n"] for p in doc["patterns"]} == PATTERNS
    assert doc["baseline"][0]["ci_low"] == pytest.approx(CI[0], rel=1e-8)
    assert len(doc["retention_by"]["role"]) == 10


def test_cli_bad_input_is_a_plain_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from analysis.cli import main

    path = tmp_path / "long.csv"
    path.write_text("participant,wave,score\na,1,3\n")
    assert main(["attrition", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: ") and "Traceback" not in err


def test_patterns_count_people_who_answered_nothing() -> None:
    frame = pd.DataFrame({"participant": ["a", "a"], "wave": [1, 2]})
    table = wave_patterns(frame, waves=[1, 2], subjects=["a", "b", "c"])
    assert dict(zip(table["pattern"], table["n"], strict=True)) == {"XX": 1, "..": 2}


def test_each_scale_is_compared(growth: pd.DataFrame) -> None:
    other = growth.assign(scale="support", score=growth["score"] + 1.0)
    table = stayers_and_leavers(pd.concat([growth, other], ignore_index=True))
    assert list(table["scale"]) == ["identity", "support"]
    assert_allclose(table["difference"], [GROUPS[2] - GROUPS[3]] * 2, rtol=1e-9)
    assert list(table["n_stayed"]) == [GROUPS[0]] * 2
