"""The codebook is generated from the files, and the command line reports and exits properly."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from instruments import load_all, load_themes
from instruments.cli import main, run_check
from instruments.codebook import CSV_COLUMNS

from .builders import MARK, MINI, THEMES, marked_line, mutate, write_dir


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_codebook_has_every_item_of_every_instrument(tmp_path: Path) -> None:
    assert main(["codebook", "--out", str(tmp_path / "out")]) == 0
    rows = _read_csv(tmp_path / "out" / "codebook.csv")
    instruments = load_all()
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["instrument"], r["item_id"]) for r in rows] == [
        (i.id, item.id) for i in instruments for item in i.items]
    markdown = (tmp_path / "out" / "codebook.md").read_text(encoding="utf-8")
    for instrument in instruments:
        assert instrument.content_hash in markdown
        for item in instrument.items:
            assert (f"| {item.id} | {item.text} |" in markdown if item.is_likert
                    else f"| {item.id} | {item.type} | {item.text} |" in markdown)
    for theme_id in load_themes():
        assert f"| {theme_id} |" in markdown


def test_codebook_row_describes_a_reverse_keyed_item(tmp_path: Path) -> None:
    directory = write_dir(tmp_path / "in", {"themes.yaml": THEMES, "mini.yaml": MINI})
    assert main(["codebook", "--dir", str(directory), "--out", str(tmp_path / "out")]) == 0
    row = next(r for r in _read_csv(tmp_path / "out" / "codebook.csv") if r["item_id"] == "a3")
    assert row["text"] == "I am item a three."
    assert (row["scale"], row["scale_label"], row["reverse"]) == ("first", "First", "yes")
    assert (row["theme"], row["theme_label"], row["baseline_only"]) == ("beta", "Beta", "no")
    assert row["response_options"] == (
        "1=Strongly disagree; 2=Disagree; 3=Neither agree nor disagree; 4=Agree; "
        "5=Strongly agree")
    assert row["not_applicable"] == "Does not apply (stored as missing)"
    assert row["min_answered"] == "0.6"


def test_check_passes_on_good_files_and_fails_on_broken_ones(tmp_path: Path) -> None:
    good = write_dir(tmp_path / "good", {"themes.yaml": THEMES, "mini.yaml": MINI})
    out, err = io.StringIO(), io.StringIO()
    assert run_check(good, out, err) == 0
    assert out.getvalue() == f"OK: mini v1; 3 themes ({good})\n"
    broken = mutate(MINI, "theme: gamma\n    help", f"theme: gama  {MARK}\n    help")
    bad = write_dir(tmp_path / "bad", {"themes.yaml": THEMES, "mini.yaml": broken})
    out, err = io.StringIO(), io.StringIO()
    assert run_check(bad, out, err) == 1
    assert err.getvalue().splitlines() == [
        f"mini.yaml:{marked_line(broken)}: item b1, field 'theme': unknown theme 'gama'; add it to themes.yaml "
        "or fix the spelling",
        f"1 problem(s) in {bad}",
    ]


def test_codebook_refuses_broken_files(tmp_path: Path) -> None:
    bad = write_dir(tmp_path / "bad", {"mini.yaml": MINI})
    assert main(["codebook", "--dir", str(bad), "--out", str(tmp_path / "out")]) == 1
    assert not (tmp_path / "out").exists()


def test_module_entry_point_exits_non_zero_on_errors(tmp_path: Path) -> None:
    bad = write_dir(tmp_path, {"themes.yaml": THEMES, "mini.yaml": "id: [\n"})
    result = subprocess.run([sys.executable, "-m", "instruments", "check", str(bad)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("mini.yaml:")
    assert "not valid YAML" in result.stderr
    shipped = subprocess.run([sys.executable, "-m", "instruments", "check"],
                             capture_output=True, text=True, check=False)
    assert shipped.returncode == 0, shipped.stderr
    assert shipped.stdout.startswith(
        "OK: colleague v1, colleague v2, peer_worker v1, peer_worker v2;")


def test_summary_and_readability_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary"]) == 0
    summary = capsys.readouterr().out
    assert "  identity: 6 items (2 reverse-keyed); themes: identity," in summary
    assert main(["readability"]) == 0
    readability = capsys.readouterr().out
    assert "peer_worker v1: 39 items (35 at later waves), Flesch Reading Ease" in readability
