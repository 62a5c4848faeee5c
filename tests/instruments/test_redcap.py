"""REDCap data dictionaries: written per instrument version, drafted back into instrument YAML."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from instruments import load_instrument
from instruments.cli import main
from instruments.loader import INSTRUMENT_DIR, check_directory, read_catalogue
from instruments.redcap import COLUMNS, dictionary_csv

HEADER = ",".join(f'"{c}"' if "," in c else c for c in COLUMNS)


def _row(name: str, kind: str, label: str, choices: str = "", header: str = "",
         annotation: str = "", validation: tuple[str, str, str] = ("", "", "")) -> str:
    cells = [name, "wellbeing", header, kind, label, choices, "", *validation] + [""] * 7 + [annotation]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("instrument_id", ["peer_worker", "colleague"])
def test_dictionary_drafts_back_into_an_instrument_that_checks(tmp_path: Path,
                                                               instrument_id: str, version: int) -> None:
    instrument = load_instrument(instrument_id, version)
    dictionary = tmp_path / f"{instrument_id}.csv"
    dictionary.write_text(dictionary_csv(instrument))
    out = tmp_path / "drafts"
    out.mkdir()
    shutil.copy(INSTRUMENT_DIR / "themes.yaml", out)
    if instrument_id == "colleague":  # its pairs need the peer worker file beside it
        shutil.copy(INSTRUMENT_DIR / f"peer_worker_v{version}.yaml", out)
    target = out / f"{instrument_id}_v{version}.yaml"
    assert main(["from-redcap", str(dictionary), "--out", str(target)]) == 0
    assert check_directory(out) == []
    draft = next(i for i in read_catalogue(out).instruments if i.id == instrument_id)
    # Every type comes back: choice options, number range and unit, text limit, help.
    fields = ("id", "text", "scale", "reverse", "theme", "pair", "baseline_only", "type",
              "options", "number", "max_length", "help", "page")
    assert [tuple(getattr(i, f) for f in fields) for i in draft.items] == [
        tuple(getattr(i, f) for f in fields) for i in instrument.items]
    assert [(p.id, p.title) for p in draft.extra_pages] == [
        (p.id, p.title) for p in instrument.extra_pages]
    assert draft.response_options == instrument.response_options
    assert draft.not_applicable_label == instrument.not_applicable_label
    assert draft.pairs_with == instrument.pairs_with


def test_a_foreign_dictionary_uses_section_headers_and_drafts_text_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    choices = "1, Never | 2, Sometimes | 3, Often | 99, Not applicable"
    lines = [HEADER, _row("record_id", "text", "Record ID"),
             *[_row(f"q{k}", "radio" if k % 2 else "dropdown", f"I feel part of the team {k}.",
                    choices, header="Belonging" if k == 1 else "") for k in range(1, 4)],
             _row("comments", "notes", "Anything else?"),
             _row("hours", "text", "Hours a week?", validation=("integer", "0", "48")),
             _row("score", "calc", "Total", "sum([q1],[q2])")]
    dictionary = tmp_path / "foreign.csv"
    dictionary.write_text("\n".join(lines) + "\n")
    assert main(["from-redcap", str(dictionary), "--theme", "fitting_in"]) == 0
    text = capsys.readouterr().out
    # notes -> a free-text item; text validated as integer -> a number item with its range
    assert "- id: comments\n  type: text\n" in text and "max_length: 1000" in text
    assert "- id: hours\n  type: number\n" in text and "min: 0\n  max: 48\n  integer: true" in text
    assert "Other fields not converted: score (calc)" in text
    assert "not_applicable_label: Not applicable" in text
    out = tmp_path / "drafts"
    out.mkdir()
    shutil.copy(INSTRUMENT_DIR / "themes.yaml", out)
    (out / "wellbeing_v1.yaml").write_text(text)
    # The check then says what is left to finish: here, the house rule of a reverse-keyed item.
    problems = check_directory(out)
    assert [p.message for p in problems] == [
        "scale 'belonging' has no reverse-keyed item; reword at least one item to say the "
        "opposite and mark it 'reverse: true'"]
    assert "scale: belonging" in text and text.count("theme: fitting_in") == 5


def test_a_broken_dictionary_names_line_and_column_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [HEADER, _row("record_id", "text", "Record ID"),
             _row("Q1", "radio", "Question one", "1, No | 2, Yes"),
             _row("q2", "radio", "Question two", "1, No | two, Yes"),
             _row("q3", "radio", "", "1, No | 2, Yes"),
             _row("q4", "radio", "Question four", "1, No | 2, Yes | 3, Maybe"),
             _row("q5", "radio", "Question five", "1, No | 2, Yes"),
             _row("q5", "radio", "Again", "1, No | 2, Yes")]
    dictionary = tmp_path / "broken.csv"
    dictionary.write_text("\n".join(lines) + "\n")
    target = tmp_path / "draft.yaml"
    assert main(["from-redcap", str(dictionary), "--out", str(target)]) == 1
    err = capsys.readouterr().err
    assert f"{dictionary}:3: field 'Variable / Field Name': 'Q1' is not a REDCap variable name" in err
    assert f"{dictionary}:4: field 'Choices, Calculations, OR Slider Labels': choice 'two, Yes'" in err
    assert f"{dictionary}:5: item q3, field 'Field Label': the field has no label" in err
    assert f"{dictionary}:6: item q4, field 'Choices, Calculations, OR Slider Labels': the choices differ from those on line 7" not in err
    assert "differ from those on line" in err
    assert f"{dictionary}:8: item q5, field 'Variable / Field Name': variable 'q5' is already defined on line 7" in err
    assert "nothing written" in err
    assert not target.exists()


def test_a_file_that_is_not_a_dictionary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "data.csv"
    path.write_text("participant,score\nP1,3\n")
    assert main(["from-redcap", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:1: the header is not REDCap's data dictionary header" in err
