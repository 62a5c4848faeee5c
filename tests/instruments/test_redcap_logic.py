"""REDCap both ways with conditions: branching logic in, branching logic out, bad cells refused."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml

from instruments import InstrumentError, check_directory, load_instrument
from instruments.cli import main
from instruments.redcap import BRANCHING, COLUMNS, MAX_CELL, dictionary_csv, draft_from_dictionary

from .builders import CONDITIONAL, THEMES, write_dir

LIKERT = "1, Strongly disagree | 2, Disagree | 3, Neither | 4, Agree | 5, Strongly agree"


def _row(name: str, kind: str, label: str, choices: str = "", logic: str = "",
         validation: tuple[str, str, str] = ("", "", ""), header: str = "",
         annotation: str = "") -> list[str]:
    cells = [name, "wellbeing", header, kind, label, choices, "", *validation, "", logic]
    return cells + [""] * 5 + [annotation]


def _write(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([_row("record_id", "text", "Record ID"), *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _check(tmp_path: Path, text: str) -> list:
    return check_directory(write_dir(tmp_path / "drafts", {"themes.yaml": THEMES, "wellbeing.yaml": text}))


def _items(text: str) -> dict[str, dict]:
    return {item["id"]: item for item in yaml.safe_load(text)["items"]}


# A dictionary using every supported operator, yes/no, true/false and a checkbox (in
# PeerPulse's order: the scales' pages come before the background pages).
EVERY_OPERATOR = [
    _row("q1", "radio", "I feel part of the team.", LIKERT, header="Belonging"),
    _row("q2", "radio", "I am not sure what is expected of me.", LIKERT, "[q1] <> '3'"),
    _row("q3", "radio", "My supervisor understands peer work.", LIKERT),
    _row("sup", "yesno", "Do you have regular supervision?", logic="[q1] = '4' or [q1] = '5'",
         header="About you"),
    _row("paid", "truefalse", "My role is paid."),
    _row("used", "checkbox", "Which have you used?", "1, Training | 2, Peer support | x3, Other"),
    _row("hours", "text", "Hours a week?", validation=("integer", "0", "60"), logic="[sup] = '1'"),
    _row("n1", "notes", "What makes the week long?", logic="[hours] > 20 and [hours] < 40"),
    _row("n2", "notes", "What helps?",
         logic="([q1] = '4' or [q1] = '5') and ([used(2)] = '1' or [paid] = \"0\")"),
    _row("n3", "notes", "What else?", logic="[hours] >= 10 or [hours] <= 5 or [used(x3)] = '0'"),
]


def test_branching_logic_with_every_operator_drafts_conditions_that_check(tmp_path: Path) -> None:
    text = draft_from_dictionary(_write(tmp_path / "d.csv", EVERY_OPERATOR), theme="alpha")
    items = _items(text)
    assert items["sup"]["type"] == "choice" and items["sup"]["options"] == [
        {"value": 1, "label": "Yes"}, {"value": 0, "label": "No"}]
    assert [o["label"] for o in items["paid"]["options"]] == ["True", "False"]
    assert {"used___1", "used___2", "used___x3"} <= set(items)
    assert items["used___2"]["text"] == "Which have you used?: Peer support"
    assert items["q2"]["show_if"] == {"item": "q1", "not_equals": 3}
    assert items["sup"]["show_if"] == {"any": [{"item": "q1", "equals": 4},
                                               {"item": "q1", "equals": 5}]}
    assert items["hours"]["show_if"] == {"item": "sup", "equals": 1}
    assert items["n1"]["show_if"] == {"all": [{"item": "hours", "above": 20},
                                              {"item": "hours", "below": 40}]}
    assert items["n2"]["show_if"] == {"all": [
        {"any": [{"item": "q1", "equals": 4}, {"item": "q1", "equals": 5}]},
        {"any": [{"item": "used___2", "equals": 1}, {"item": "paid", "equals": 0}]}]}
    assert items["n3"]["show_if"] == {"any": [{"item": "hours", "min": 10},
                                              {"item": "hours", "max": 5},
                                              {"item": "used___x3", "equals": 0}]}
    # The draft needs its scale finished (a reverse key, the house rule); then it checks.
    assert any("no reverse-keyed item" in p.message for p in _check(tmp_path, text))
    fixed = text.replace("  text: I am not sure what is expected of me.\n  scale: belonging\n"
                         "  reverse: false", "  text: I am not sure what is expected of me.\n"
                         "  scale: belonging\n  reverse: true")
    assert _check(tmp_path, fixed) == []
    # ... and back out: the dictionary of the drafted instrument says the same in REDCap's words.
    drafted = load_instrument("wellbeing", directory=tmp_path / "drafts")
    logic = {r[COLUMNS[0]]: r[BRANCHING] for r in csv.DictReader(io.StringIO(dictionary_csv(drafted)))}
    assert logic["q2"] == "[q1] <> '3'"
    assert logic["sup"] == "[q1] = '4' or [q1] = '5'"
    assert logic["n1"] == "[hours] > 20 and [hours] < 40"
    assert logic["n2"] == "([q1] = '4' or [q1] = '5') and ([used___2] = '1' or [paid] = '0')"
    assert logic["n3"] == "[hours] >= 10 or [hours] <= 5 or [used___x3] = '0'"


def test_an_instrument_round_trips_through_a_dictionary_with_its_conditions(tmp_path: Path) -> None:
    write_dir(tmp_path / "a", {"themes.yaml": THEMES, "mini.yaml": CONDITIONAL})
    original = load_instrument("mini", directory=tmp_path / "a")
    dictionary = tmp_path / "mini.csv"
    dictionary.write_text(dictionary_csv(original), encoding="utf-8")
    rows = {r[COLUMNS[0]]: r for r in csv.DictReader(io.StringIO(dictionary.read_text()))}
    # REDCap finds an action tag after white space; a spreadsheet reads no cell as a formula.
    assert rows["peerpulse_role"][COLUMNS[17]].split()[0] == "@HIDDEN"  # for the role condition
    assert not [cell for row in rows.values() for cell in row.values()
                if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert rows["long_hours"][BRANCHING] == (
        "[hours] > 37 and ([peerpulse_role] = 'peer_worker' or [peerpulse_role] = 'manager')")
    out = tmp_path / "b"
    write_dir(out, {"themes.yaml": THEMES})
    assert main(["from-redcap", str(dictionary), "--out", str(out / "mini.yaml")]) == 0
    assert check_directory(out) == []
    drafted = load_instrument("mini", directory=out)
    assert [(i.id, i.show_if and i.show_if.redcap()) for i in drafted.items] == [
        (i.id, i.show_if and i.show_if.redcap()) for i in original.items]
    # The conditions decide the same way (the page's and scale's conditions ride on each item).
    answers = {"a1": 4, "supervised": 1, "hours": 40}
    for role in ("peer_worker", "colleague"):
        assert {i.id for i in drafted.items if i.show_if is None or i.show_if.holds(answers, role)} \
            == {i.id for i in original.items if i.show_if is None or i.show_if.holds(answers, role)}


REFUSED = {
    "a function": ("datediff([hours], 'today', 'y') > 1", 1, "cannot read"),
    "an unknown field": ("[q1] = '1' and [nope] = '2'", 16, "[nope] is not a field defined before"),
    "a later field": ("[q3] = '1'", 1, "[q3] is not a field defined before"),
    "a text value": ("[q1] = 'often'", 8, "'often' is not a number"),
    "a dangling and": ("[q1] = '1' and", 15, "expected a [field], found the end"),
    "an unclosed parenthesis": ("([q1] = '1'", 12, "expected ')'"),
    "a smart variable": ("[event-name][q1] = '1'", 1, "cannot read"),
    "a checkbox test of 2": ("[used(1)] = '2'", 11, "a checkbox option is tested with = '1' or = '0'"),
    "not a checkbox": ("[q1(1)] = '1'", 1, "'q1' is not a checkbox field"),
}


@pytest.mark.parametrize("case", REFUSED.values(), ids=REFUSED)
def test_unsupported_logic_is_refused_by_line_and_column(tmp_path: Path, case: tuple) -> None:
    logic, column, message = case
    rows = [_row("used", "checkbox", "Used?", "1, Training | 2, Other"),
            _row("q1", "radio", "I feel part of the team.", LIKERT),
            _row("q2", "radio", "I feel heard.", LIKERT, logic),
            _row("q3", "radio", "I feel safe.", LIKERT)]
    with pytest.raises(InstrumentError) as caught:
        draft_from_dictionary(_write(tmp_path / "d.csv", rows))
    [problem] = caught.value.problems
    assert (problem.line, problem.item, problem.field) == (5, "q2", BRANCHING)
    assert problem.message.startswith(f"column {column} of the logic: ")
    assert message in problem.message


def test_a_newline_in_a_cell_cannot_inject_yaml(tmp_path: Path) -> None:
    rows = [_row("q1", "radio", "I feel part of the team.\nversion: 99\nid: evil", LIKERT,
                 header="Belonging"),
            _row("q2", "radio", "I feel heard.", LIKERT),
            _row("odd", "sql\nvalidation_bypass: true\naudience: colleague", "x")]
    text = draft_from_dictionary(_write(tmp_path / "d.csv", rows))
    data = yaml.safe_load(text)
    assert (data["id"], data["version"], data["audience"]) == ("wellbeing", 1, "peer_worker")
    assert "validation_bypass" not in data
    assert data["items"][0]["text"] == "I feel part of the team.\nversion: 99\nid: evil"
    comment = [line for line in text.splitlines() if "not converted" in line]
    assert comment == ["# Other fields not converted: odd (sql validation_bypass: true audience: "
                       "colleague)"]


def test_an_oversized_cell_is_refused_with_its_line_and_column(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    rows = [_row("q1", "radio", "I feel part of the team.", LIKERT),
            _row("q2", "radio", "x" * (MAX_CELL + 1), LIKERT)]
    with pytest.raises(InstrumentError) as caught:
        draft_from_dictionary(_write(tmp_path / "d.csv", rows))
    [problem] = caught.value.problems
    assert (problem.line, problem.field) == (4, COLUMNS[4])
    assert f"column 5: the cell has {MAX_CELL + 1} characters; at most {MAX_CELL}" in problem.message
    # 200 KB in one cell: over the csv module's own limit; a message with the line.
    big = _write(tmp_path / "big.csv", [rows[0], _row("q2", "radio", "x" * 200_000, LIKERT)])
    assert main(["from-redcap", str(big)]) == 1
    err = capsys.readouterr().err
    assert f"{big}:4: cannot read the CSV: " in err and "a cell may hold at most" in err
    # 10 MB: refused by size before it is read.
    huge = _write(tmp_path / "huge.csv", [rows[0], _row("q2", "radio", "x" * 10_000_000, LIKERT)])
    assert main(["from-redcap", str(huge)]) == 1
    err = capsys.readouterr().err
    assert f"{huge}: the file has 10000" in err and "at most 5000000" in err
    assert "Traceback" not in err
