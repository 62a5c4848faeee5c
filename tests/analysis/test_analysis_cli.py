"""The command line: JSON output, plots and plain errors with a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analysis.cli import main

FIT = ["fit", "--outcome", "score", "--time", "months", "--subject", "participant"]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_fit_json_has_the_documented_shape(
    capsys: pytest.CaptureFixture[str], growth_path: Path, r_ref: dict[str, Any]
) -> None:
    code, out, err = _run(capsys, *FIT, str(growth_path), "--by", "role", "--ml", "--json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert set(doc) == {"formula", "method", "n_obs", "n_subjects", "n_groups", "fixed_effects",
                        "random_effects", "residual_sd", "loglik", "aic", "bic", "converged",
                        "warnings"}
    assert doc["method"] == "ML"
    assert doc["formula"] == "score ~ months * role + (1 + months | participant)"
    assert (doc["n_obs"], doc["n_subjects"], doc["n_groups"]) == (661, 150, None)
    terms = {fe["term"]: fe for fe in doc["fixed_effects"]}
    assert set(terms["months"]) == {"term", "estimate", "se", "ci_low", "ci_high", "p"}
    assert terms["months"]["estimate"] == pytest.approx(r_ref["fixef(m_ml)"]["months"], rel=1e-4)
    assert set(doc["random_effects"]["subject"]["sd"]) == {"Intercept", "months"}
    assert doc["random_effects"]["group"] is None
    assert doc["loglik"] == pytest.approx(r_ref["logLik(m_ml)"], abs=1e-3)
    assert doc["converged"] is True


def test_fit_with_team_level_and_plot(
    capsys: pytest.CaptureFixture[str], growth_path: Path, tmp_path: Path
) -> None:
    svg = tmp_path / "traj.svg"
    code, out, _ = _run(capsys, *FIT, str(growth_path), "--group", "team", "--by", "role",
                        "--json", "--plot", str(svg))
    assert code == 0
    doc = json.loads(out)
    assert doc["n_groups"] == 15
    assert doc["random_effects"]["subject"]["corr"] is None
    assert doc["random_effects"]["group"]["sd"] > 0
    assert svg.read_text().lstrip().startswith("<?xml")


def test_fit_summary_text(capsys: pytest.CaptureFixture[str], growth_path: Path) -> None:
    code, out, _ = _run(capsys, *FIT, str(growth_path), "--by", "role")
    assert code == 0
    assert "fit by REML (fast engine)" in out
    assert "months:role[T.peer_worker]" in out


def _write(tmp_path: Path, df: pd.DataFrame) -> str:
    path = tmp_path / "data.csv"
    df.to_csv(path, index=False)
    return str(path)


def test_missing_column_is_named_with_the_columns_there_are(
    capsys: pytest.CaptureFixture[str], growth_path: Path
) -> None:
    code, out, err = _run(capsys, "fit", str(growth_path), "--outcome", "scroe", "--time",
                          "months", "--subject", "participant")
    assert code == 1
    assert out == ""
    assert "no column 'scroe'" in err
    assert "participant, team, trust, role, wave, months, scale, score" in err


def test_non_numeric_outcome_names_the_line(
    capsys: pytest.CaptureFixture[str], growth: pd.DataFrame, tmp_path: Path
) -> None:
    bad = growth.astype({"score": object})
    bad.loc[4, "score"] = "n/a?"
    code, _, err = _run(capsys, *FIT, _write(tmp_path, bad))
    assert code == 1
    assert "column 'score' must be numeric, but line 6 holds 'n/a?'" in err


def test_one_wave_is_refused(
    capsys: pytest.CaptureFixture[str], growth: pd.DataFrame, tmp_path: Path
) -> None:
    code, _, err = _run(capsys, *FIT, _write(tmp_path, growth[growth["wave"] == 1]))
    assert code == 1
    assert "at least two waves" in err
    assert "only months = 0" in err


def test_too_few_participants_is_refused(
    capsys: pytest.CaptureFixture[str], growth: pd.DataFrame, tmp_path: Path
) -> None:
    few = growth[growth["participant"].isin(["P001", "P002", "P003"])]
    code, _, err = _run(capsys, *FIT, _write(tmp_path, few))
    assert code == 1
    assert "too few participants: 3 of 3" in err


def test_non_convergence_prints_no_estimates(
    capsys: pytest.CaptureFixture[str], growth_path: Path
) -> None:
    code, out, err = _run(capsys, *FIT, str(growth_path), "--by", "role", "--max-iter", "1",
                          "--json")
    assert code == 1
    assert out == ""
    assert "did not converge" in err
    assert "tried L-BFGS-B" in err


def test_reliability_command(capsys: pytest.CaptureFixture[str], items: pd.DataFrame,
                             tmp_path: Path, r_ref: dict[str, Any]) -> None:
    path = _write(tmp_path, items[items["wave"] == 1])
    code, out, _ = _run(capsys, "reliability", path, "--items", "i1", "i2", "i3", "i4", "i5",
                        "i6", "--json")
    assert code == 0
    doc = json.loads(out)
    # alpha is closed-form (rtol 1e-8); omega an iterative fit (1e-3)
    assert doc["alpha"] == pytest.approx(r_ref["psych::alpha(w1)$total$raw_alpha"], rel=1e-8)
    assert doc["omega"] == pytest.approx(r_ref["psych::omega(w1, nfactors = 1)$omega.tot"], abs=1e-3)
    assert [row["item"] for row in doc["items"]] == ["i1", "i2", "i3", "i4", "i5", "i6"]
    code, out, _ = _run(capsys, "reliability", path, "--items", "i1", "i2", "i3", "--by", "role")
    assert code == 0
    assert "peer_worker" in out
    code, _, err = _run(capsys, "reliability", path, "--items", "i1", "q2")
    assert code == 1
    assert "no column 'q2'" in err


def test_a_fit_with_a_nan_standard_error_prints_valid_json_with_null(
    capsys: pytest.CaptureFixture[str], growth_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import analysis.cli
    from tests.fits import nan_fitting, strict_json

    monkeypatch.setattr(analysis.cli, "fit_growth", nan_fitting(analysis.cli.fit_growth))
    code, out, err = _run(capsys, *FIT, str(growth_path), "--json")
    assert (code, err) == (0, "")
    terms = {fe["term"]: fe for fe in strict_json(out)["fixed_effects"]}
    assert {key: terms["months"][key] for key in ("se", "ci_low", "ci_high", "p")} == dict.fromkeys(
        ("se", "ci_low", "ci_high", "p"))
    assert isinstance(terms["months"]["estimate"], float)  # the estimate itself is still there
    assert isinstance(terms["Intercept"]["se"], float)
