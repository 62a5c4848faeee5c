"""``python -m analysis invariance``: the JSON object, the text report and plain errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from tests.analysis.conftest import REFERENCE

DATA = REFERENCE / "invariance.csv"
ITEMS = ["--items", "id1", "id2", "id3", "id4", "id5"]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_is_one_object_with_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "invariance", str(DATA), *ITEMS, "--group", "role", "--json",
                          "--missing", "listwise")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert set(doc) == {"n_obs", "rows_read", "missing", "missing_answers", "rows", "groups",
                        "steps", "comparisons", "converged", "warnings"}
    assert doc["n_obs"] == 412
    assert (doc["rows_read"], doc["missing"]) == (420, "listwise")
    assert doc["rows"] == ("412 of 420 rows used (listwise deletion: complete rows only); "
                           "8 left out: a missing group or item")
    assert doc["groups"] == {"colleague": 254, "peer_worker": 158}
    assert [s["model"] for s in doc["steps"]] == ["configural", "metric", "scalar"]
    for step in doc["steps"]:
        assert set(step) == {"model", "chisq", "df", "cfi", "tli", "rmsea", "srmr"}
        assert isinstance(step["df"], int)
    # fitMeasures(fit.metric, "cfi") with cfa(model, data, group = "role", group.equal = "loadings")
    assert doc["steps"][1]["cfi"] == pytest.approx(0.9951946123643, abs=1e-4)
    assert [(c["from"], c["to"]) for c in doc["comparisons"]] == [
        ("configural", "metric"), ("metric", "scalar")]
    assert set(doc["comparisons"][0]) == {"from", "to", "delta_chisq", "delta_df", "p", "delta_cfi"}
    # lavTestLRT(fit.configural, fit.metric, fit.scalar)$`Chisq diff`[3]
    assert doc["comparisons"][1]["delta_chisq"] == pytest.approx(17.82632237988, abs=1e-4)
    assert doc["converged"] is True
    assert doc["warnings"] == ["8 of 420 rows left out: a missing group or item (listwise deletion)"]


def test_full_information_ml_is_the_default_and_uses_every_row(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(capsys, "invariance", str(DATA), *ITEMS, "--group", "role", "--json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    # 8 rows miss one of id2 / id5 (4 each, never both): FIML keeps them all
    assert (doc["n_obs"], doc["missing"], doc["missing_answers"]) == (420, "ml", 8)
    assert doc["rows"] == ("420 of 420 rows used (full-information ML: every answer counts; "
                           "8 item answers missing among them)")
    assert doc["warnings"] == []
    code, out, _ = _run(capsys, "invariance", str(DATA), *ITEMS, "--group", "role")
    assert code == 0 and "420 of 420 rows used (full-information ML" in out


def test_text_report_names_steps_and_groups(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "invariance", str(DATA), *ITEMS, "--group", "role")
    assert code == 0
    assert "colleague (259), peer_worker (161)" in out
    assert out.count("configural") == 2  # its step row and its comparison row
    assert "metric -> scalar" in out


def _write(tmp_path: Path, df: pd.DataFrame) -> str:
    path = tmp_path / "wide.csv"
    df.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize(
    ("change", "argv", "message"),
    [
        (None, ["--items", "id1", "id2", "nope", "--group", "role"], "no column 'nope'"),
        (None, [*ITEMS, "--group", "team"], "no column 'team'"),
        (None, ["--items", "id1", "id2", "--group", "role"], "at least 3 items"),
        ("text", [*ITEMS, "--group", "role"], "column 'id3' must be numeric, but line 5 holds 'often'"),
        ("small", [*ITEMS, "--group", "role"], "group 'manager' of column 'role' has 4 usable row(s)"),
        ("flat", [*ITEMS, "--group", "role"], "item(s) 'id4' take a single value"),
        ("one", [*ITEMS, "--group", "role"], "has 1 group(s)"),
        (None, [*ITEMS, "--group", "role", "--max-iter", "1"], "did not converge"),
    ],
)
def test_bad_input_is_a_plain_error_and_prints_no_estimates(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, change: str | None, argv: list[str],
    message: str,
) -> None:
    df = pd.read_csv(DATA)
    if change == "text":
        df["id3"] = df["id3"].astype(object)
        df.loc[3, "id3"] = "often"
    elif change == "small":
        df.loc[[0, 1, 2, 3], "role"] = "manager"
    elif change == "flat":
        df.loc[df["role"] == "peer_worker", "id4"] = 3
    elif change == "one":
        df["role"] = "colleague"
    code, out, err = _run(capsys, "invariance", _write(tmp_path, df), *argv, "--json")
    assert code == 1
    assert out == ""
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err
