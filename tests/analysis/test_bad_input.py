"""Damaged files through every command: a result, or one line naming what is wrong and where.

Hypothesis damages the reference files (a cell made inf, nan, empty, text or huge; a row
repeated; a column removed; an outcome made constant; every row twice) and runs each command
of ``python -m analysis`` in-process. The contract (analysis.contract) holds when every run
either exits 0 with a result that has no undefined number and consistent counts, or exits 1
with a single ``error:`` line that names the file (and the line and column for a bad cell);
never a traceback. A few damages always have one answer, asserted exactly below.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.cli import main

REFERENCE = Path(__file__).resolve().parent / "reference"
ITEMS = ["i1", "i2", "i3", "i4"]
LONG = pd.read_csv(REFERENCE / "growth.csv", dtype=str, keep_default_na=False)
LONG = LONG[LONG["participant"].isin(sorted(set(LONG["participant"]))[:40])]
WIDE = pd.read_csv(REFERENCE / "items.csv", dtype=str, keep_default_na=False)
WIDE = WIDE[WIDE["wave"] == "1"]

#: command -> (base table, its arguments after the file, the numeric columns it reads)
COMMANDS: dict[str, tuple[pd.DataFrame, list[str], list[str]]] = {
    "fit": (LONG, ["--outcome", "score", "--time", "months", "--subject", "participant"],
            ["score", "months"]),
    "fit-by": (LONG, ["--outcome", "score", "--time", "months", "--subject", "participant",
                      "--by", "role"], ["score", "months"]),
    "attrition": (LONG, [], ["wave", "score"]),
    "reliability": (WIDE, ["--items", *ITEMS], ITEMS),
    "reliability-by": (WIDE, ["--items", *ITEMS, "--by", "role"], ITEMS),
    "invariance": (WIDE, ["--items", *ITEMS, "--group", "role"], ITEMS),
    "agreement": (WIDE, ["--items", *ITEMS, "--group", "role"], ITEMS),
}
BAD_CELLS = ["inf", "-inf", "1e999", "nan", "", "NA", "abc", "1e300", "-1e300", "12,5", "∞"]


def _run(command: str, table: pd.DataFrame | str, path: Path,
         capsys: pytest.CaptureFixture[str], extra: tuple[str, ...] = ()) -> tuple[int, str, str]:
    """Write the table, run the command on it in-process; an exception fails the test."""
    path.write_text(table if isinstance(table, str) else table.to_csv(index=False))
    argv = [command.split("-")[0], str(path), *COMMANDS[command][1], *extra]
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _check_contract(code: int, out: str, err: str, path: Path) -> None:
    """Exit 0 with a clean result, or 1 with one error line naming the file."""
    assert code in (0, 1), (code, err)
    assert "Traceback" not in out + err
    if code == 1:
        assert out == ""
        assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
        assert str(path) in err or "--items" in err or "named more than once" in err, err
        return
    assert err == ""
    doc = json.loads(out)  # strict: json.loads rejects nothing, so look for NaN spelled out
    assert "NaN" not in out and "Infinity" not in out
    _consistent(doc)


def _consistent(doc: dict) -> None:
    """Counts that must agree with each other in an attrition report."""
    if "baseline" in doc:
        cohort = doc["retention"][0]["cohort"]  # the first wave in the data
        assert sum(r["n"] for r in doc["patterns"]) >= cohort
        for row in doc["baseline"]:
            assert row["n_stayed"] + row["n_left"] <= cohort, (row, cohort)
    if "rows_read" in doc and "rows_used" in doc:
        assert 0 <= doc["rows_used"] <= doc["rows_read"]


@st.composite
def damaged(draw: st.DrawFn, command: str) -> tuple[pd.DataFrame | str, str]:
    """A damaged copy of the command's file, and the kind of damage."""
    base, _args, numeric = COMMANDS[command]
    table = base.copy().reset_index(drop=True)
    kind = draw(st.sampled_from(["cell", "cells", "repeat", "drop-column", "constant",
                                 "twice", "empty", "header-only", "text-column"]))
    if kind in ("cell", "cells"):
        for _ in range(1 if kind == "cell" else draw(st.integers(2, 30))):
            row = draw(st.integers(0, len(table) - 1))
            table.loc[row, draw(st.sampled_from(numeric))] = draw(st.sampled_from(BAD_CELLS))
    elif kind == "repeat":
        row = draw(st.integers(0, len(table) - 1))
        table = pd.concat([table, table.iloc[[row]]], ignore_index=True)
    elif kind == "drop-column":
        table = table.drop(columns=[draw(st.sampled_from(list(table.columns)))])
    elif kind == "constant":
        table[draw(st.sampled_from(numeric))] = draw(st.sampled_from(["3", "0", "1e300"]))
    elif kind == "twice":
        table = pd.concat([table, table], ignore_index=True)
    elif kind == "text-column":
        table[draw(st.sampled_from(numeric))] = "n/a"
    elif kind == "empty":
        return "", kind
    elif kind == "header-only":
        return ",".join(table.columns) + "\n", kind
    return table, kind


@pytest.mark.parametrize("command", list(COMMANDS))
def test_damaged_files_get_a_result_or_one_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "data.csv"

    @settings(max_examples=20, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(damaged(command))
    def check(case: tuple[pd.DataFrame | str, str]) -> None:
        table, kind = case
        code, out, err = _run(command, table, path, capsys, ("--json",))
        _check_contract(code, out, err, path)
        if kind == "twice" and "participant" in (table.columns if isinstance(table, pd.DataFrame) else []):
            assert code == 1 and "repeats line 2 exactly" in err, err

    check()


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("cell", ["inf", "-inf", "1e999"])
def test_an_infinite_cell_is_refused_with_file_line_and_column(
    command: str, cell: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, _args, numeric = COMMANDS[command]
    table = base.copy().reset_index(drop=True)
    table.loc[6, numeric[0]] = cell
    path = tmp_path / "data.csv"
    code, out, err = _run(command, table, path, capsys)
    column = list(table.columns).index(numeric[0]) + 1
    assert code == 1 and out == ""
    assert err.startswith(f"error: {path}: line 8, column {column} ({numeric[0]!r}) holds ")


@pytest.mark.parametrize("command", ["fit", "attrition", "reliability", "agreement"])
def test_a_file_twice_is_refused_naming_the_lines(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = COMMANDS[command][0]
    path = tmp_path / "data.csv"
    code, _out, err = _run(command, pd.concat([base, base]), path, capsys)
    assert code == 1
    assert f"line {len(base) + 2} repeats line 2 exactly ({len(base)} repeated row(s)" in err


def test_repeated_items_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "data.csv"
    path.write_text(WIDE.to_csv(index=False))
    for command in ("reliability", "invariance"):
        assert main([command, str(path), "--items", "i1", "i1", "i2", "--group", "role"]
                    if command == "invariance" else
                    [command, str(path), "--items", "i1", "i1", "i2"]) == 1
        err = capsys.readouterr().err
        assert err == "error: item 'i1' is named more than once; name each item once\n"


def test_a_constant_outcome_is_refused_in_words(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _run("fit", LONG.assign(score="4"), tmp_path / "d.csv", capsys)
    assert code == 1
    assert "the outcome 'score' is 4 in every row used, so there is no variation" in err


def test_group_labels_stay_as_written_with_an_empty_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = WIDE.assign(role=WIDE["role"].map({"colleague": "1", "peer_worker": "2"}))
    table.iloc[3, table.columns.get_loc("role")] = ""
    code, out, err = _run("invariance", table, tmp_path / "d.csv", capsys, ("--json",))
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert set(doc["groups"]) == {"1", "2"}
    assert any("1 of 150 rows left out" in w for w in doc["warnings"])
    small = table[table["role"] != "2"].head(40)
    small = pd.concat([small, table[table["role"] == "2"].head(5)])
    code, _out, err = _run("invariance", small, tmp_path / "d.csv", capsys)
    assert code == 1 and "group '2' of column 'role' has 5 usable row(s)" in err
    assert "np." not in err and "2.0" not in err


def test_attrition_without_scores_says_so(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run("attrition", LONG.assign(score=""), tmp_path / "d.csv", capsys)
    assert (code, err) == (0, "")
    assert "Empty DataFrame" not in out
    assert "not computed: " in out and "no 'score' at the first wave (wave 1" in out


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_real_process_exits_1_with_one_line(command: str, tmp_path: Path) -> None:
    base, args, numeric = COMMANDS[command]
    table = base.copy()
    table.iloc[2, table.columns.get_loc(numeric[-1])] = "inf"
    path = tmp_path / "data.csv"
    path.write_text(table.to_csv(index=False))
    done = subprocess.run([sys.executable, "-m", "analysis", command.split("-")[0], str(path),
                           *args], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and f"{path}: line 4, column " in done.stderr
