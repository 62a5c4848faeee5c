"""Each kind of mistake in an instrument or themes file is named by file, line, item and field."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from instruments import InstrumentError, Problem, check_directory, load_all, load_instrument

from .builders import COLLEAGUE, MARK, MINI, THEMES, marked_line, mutate, write_dir


class Case(NamedTuple):
    file: str
    edits: list[tuple[str, str] | tuple[str, str, int]]
    item: str | None
    field: str | None
    message: str


A2 = (
    "  - id: a2\n    text: I am item a two.\n    scale: first\n"
    "    reverse: false\n    theme: alpha\n"
)

MINI_CASES = {
    "duplicate item id": Case("mini.yaml", [("  - id: a2\n", f"  - id: a1  {MARK}\n")],
                              "a1", "id", "duplicate item id (first on line"),
    "unknown scale": Case("mini.yaml", [(A2, A2.replace("scale: first", f"scale: firts  {MARK}"))],
                          "a2", "scale", "unknown scale 'firts'"),
    "unknown theme": Case("mini.yaml", [(A2, A2.replace("theme: alpha", f"theme: alfa  {MARK}"))],
                          "a2", "theme", "unknown theme 'alfa'"),
    "scale with two items": Case(
        "mini.yaml",
        [("  - id: second\n", f"  - id: second  {MARK}\n"),
         ("    scale: second\n    reverse: true\n", "    scale: first\n    reverse: true\n")],
        None, "scales", "scale 'second' has 2 item(s); a scale needs at least 3"),
    "scale without a reverse-keyed item": Case(
        "mini.yaml",
        [("  - id: second\n", f"  - id: second  {MARK}\n"),
         ("    scale: second\n    reverse: true\n", "    scale: second\n    reverse: false\n")],
        None, "scales", "scale 'second' has no reverse-keyed item"),
    "scale mixing baseline-only and every-wave items": Case(
        "mini.yaml",
        [("  - id: first\n", f"  - id: first  {MARK}\n"),
         ("    theme: beta\n", "    theme: beta\n    baseline_only: true\n")],
        None, "scales", "mixes baseline-only and every-wave items"),
    "response options out of order": Case(
        "mini.yaml",
        [("  - {value: 3, label: Neither agree nor disagree}\n  - {value: 4, label: Agree}\n",
          f"  - {{value: 4, label: Agree}}\n  - {{value: 3, label: Neither agree nor disagree}}"
          f"  {MARK}\n")],
        None, "response_options", "response options out of order: value 3 comes after 4"),
    "response option values with a gap": Case(
        "mini.yaml",
        [("{value: 5, label: Strongly agree}", f"{{value: 6, label: Strongly agree}}  {MARK}")],
        None, "response_options", "must go up by 1: 4 is followed by 6"),
    "response option label used twice": Case(
        "mini.yaml", [("{value: 4, label: Agree}", f"{{value: 4, label: Disagree}}  {MARK}")],
        None, "response_options", "label 'Disagree' is used twice"),
    "missing item text": Case(
        "mini.yaml",
        [(A2, A2.replace("a2\n", f"a2  {MARK}\n").replace("    text: I am item a two.\n", ""))],
        "a2", "text", "required field is missing"),
    "reverse not true or false": Case(
        "mini.yaml", [(A2, A2.replace("reverse: false", f"reverse: maybe  {MARK}"))],
        "a2", "reverse", "must be true or false, got 'maybe'"),
    "misspelt field": Case(
        "mini.yaml", [(A2, A2.replace("reverse: false", f"revers: false  {MARK}"))],
        "a2", "revers", "unknown field; known: id, text"),
    "field given twice": Case(
        "mini.yaml", [(A2, A2 + f"    text: I am item a two, again.  {MARK}\n")],
        "a2", "text", "given twice (first on line"),
    "invalid YAML": Case(
        "mini.yaml", [("    text: I am item a two.\n", f"    text: I am: item a two.  {MARK}\n")],
        None, None, "not valid YAML: mapping values are not allowed here"),
    "min_answered above 1": Case(
        "mini.yaml",
        [("    min_answered: 0.6\n  - id: second",
          f"    min_answered: 1.5  {MARK}\n  - id: second")],
        None, "min_answered", "must be a share greater than 0 and at most 1"),
    "unknown audience": Case(
        "mini.yaml", [("audience: peer_worker\n", f"audience: manager  {MARK}\n")],
        None, "audience", "unknown audience 'manager'"),
    "duplicate scale id": Case(
        "mini.yaml", [("  - id: start\n", f"  - id: second  {MARK}\n")],
        None, "id", "duplicate scale id 'second'"),
    "invalid item id": Case(
        "mini.yaml", [("  - id: a2\n", f"  - id: A-2  {MARK}\n")],
        None, "id", "'A-2' is not a valid id"),
    "version below 1": Case(
        "mini.yaml", [("version: 1\n", f"version: 0  {MARK}\n")],
        None, "version", "must be 1 or more, got 0"),
    "pair in a peer worker file": Case(
        "mini.yaml", [(A2, A2 + f"    pair: a1  {MARK}\n")],
        "a2", "pair", "only colleague instruments pair"),
    "baseline items without a baseline module": Case(
        "mini.yaml",
        [("id: mini\n", f"id: mini  {MARK}\n"),
         ("baseline_module:\n  title: When you started\n"
          "  intro: Thinking back to when you started, how much do you agree?\n", "")],
        None, "baseline_module", "a baseline_module with a title and intro"),
    "baseline module without baseline items": Case(
        "mini.yaml",
        [("baseline_module:\n", f"baseline_module:  {MARK}\n"),
         ("    baseline_only: true\n", "", 3)],
        None, "baseline_module", "no item is marked baseline_only"),
}

PAIR_CASES = {
    "pair names an unknown item": Case(
        "colleague.yaml", [("  - id: c1\n", f"  - id: c1  {MARK}\n"), ("pair: a1", "pair: a9")],
        "c1", "pair", "'a9' is not an item of mini v1"),
    "pair on another scale": Case(
        "colleague.yaml", [("  - id: c1\n", f"  - id: c1  {MARK}\n"), ("pair: a1", "pair: b1")],
        "c1", "pair", "on scale 'second', but this item is on scale 'first'"),
    "pair keyed the other way": Case(
        "colleague.yaml", [("  - id: c1\n", f"  - id: c1  {MARK}\n"), ("pair: a1", "pair: a2"),
                           ("    reverse: false\n    theme: alpha\n    pair",
                            "    reverse: true\n    theme: alpha\n    pair")],
        "c1", "pair", "reverse key differs from mini v1 item a2"),
    "pair with a baseline-only item": Case(
        "colleague.yaml", [("  - id: c1\n", f"  - id: c1  {MARK}\n"), ("pair: a1", "pair: s1")],
        "c1", "pair", "item s1 is baseline-only"),
    "same item paired twice": Case(
        "colleague.yaml", [("pair: a3", f"pair: a1  {MARK}")],
        "c3", "pair", "'a1' is already paired with item c1"),
    "pairs without pairs_with": Case(
        "colleague.yaml", [("id: mini_colleague\n", f"id: mini_colleague  {MARK}\n"),
                           ("pairs_with:\n  instrument: mini\n  version: 1\n", "")],
        None, "pairs_with", "'pairs_with' must name the instrument"),
}

THEME_CASES = {
    "duplicate theme id": Case(
        "themes.yaml", [("  - id: gamma\n", f"  - id: beta  {MARK}\n")],
        "beta", "id", "duplicate theme id"),
    "unknown parent theme": Case(
        "themes.yaml", [("    parent: alpha\n", f"    parent: alpah  {MARK}\n")],
        "beta", "parent", "unknown theme 'alpah'"),
    "parent that is not a theme": Case(
        "themes.yaml", [("    kind: outcome\n", f"    kind: outcome\n    parent: beta  {MARK}\n")],
        "gamma", "parent", "parent 'beta' is a finding"),
    "unknown theme kind": Case(
        "themes.yaml", [("    kind: outcome\n", f"    kind: result  {MARK}\n")],
        "gamma", "kind", "unknown kind 'result'"),
}


def _broken_directory(tmp_path: Path, case: Case) -> tuple[Path, int]:
    files = {"themes.yaml": THEMES, "mini.yaml": MINI, "colleague.yaml": COLLEAGUE}
    text = files[case.file]
    for edit in case.edits:
        text = mutate(text, *edit)
    files[case.file] = text
    return write_dir(tmp_path / "instruments", files), marked_line(text)


def test_the_unbroken_files_pass(tmp_path: Path) -> None:
    directory = write_dir(tmp_path, {"themes.yaml": THEMES, "mini.yaml": MINI,
                                     "colleague.yaml": COLLEAGUE})
    assert check_directory(directory) == []
    assert [i.key for i in load_all(directory)] == ["mini v1", "mini_colleague v1"]


@pytest.mark.parametrize(
    "case", [*MINI_CASES.values(), *PAIR_CASES.values(), *THEME_CASES.values()],
    ids=[*MINI_CASES, *PAIR_CASES, *THEME_CASES],
)
def test_mistake_is_named_with_file_line_item_and_field(tmp_path: Path, case: Case) -> None:
    directory, line = _broken_directory(tmp_path, case)
    problems = check_directory(directory)
    matching = [p for p in problems if case.message in p.message]
    assert matching, f"no problem says {case.message!r}; got:\n" + "\n".join(map(str, problems))
    assert (matching[0].file, matching[0].line, matching[0].item, matching[0].field) == (
        case.file, line, case.item, case.field)


@pytest.mark.parametrize("case", list(MINI_CASES.values())[:3], ids=list(MINI_CASES)[:3])
def test_loading_a_broken_directory_raises_with_every_problem(tmp_path: Path, case: Case) -> None:
    directory, line = _broken_directory(tmp_path, case)
    with pytest.raises(InstrumentError) as raised:
        load_instrument("mini", directory=directory)
    assert raised.value.problems == check_directory(directory)
    assert f"{case.file}:{line}: item {case.item}, field '{case.field}': " in str(raised.value)


def test_problem_renders_file_line_item_field_and_message() -> None:
    problem = Problem("peer_worker_v1.yaml", 42, "pw_id_3", "scale", "unknown scale 'identiy'")
    assert str(problem) == (
        "peer_worker_v1.yaml:42: item pw_id_3, field 'scale': unknown scale 'identiy'")
    assert str(Problem("themes.yaml", None, None, None, "file is empty")) == (
        "themes.yaml: file is empty")


def test_one_file_with_several_mistakes_reports_them_all(tmp_path: Path) -> None:
    text = mutate(MINI, "    theme: gamma\n    help:", "    theme: nope\n    help:")
    text = mutate(text, "reverse: false\n    theme: alpha\n  - id: a3",
                  "reverse: 2\n    theme: alpha\n  - id: a3")
    directory = write_dir(tmp_path, {"themes.yaml": THEMES, "mini.yaml": text})
    found = {(p.item, p.field) for p in check_directory(directory)}
    assert found == {("b1", "theme"), ("a2", "reverse")}


def test_same_id_and_version_in_two_files(tmp_path: Path) -> None:
    directory = write_dir(tmp_path, {"themes.yaml": THEMES, "a.yaml": MINI, "b.yaml": MINI})
    [problem] = check_directory(directory)
    assert (problem.file, problem.line, problem.field) == ("b.yaml", 2, "version")
    assert "mini v1 is also defined in a.yaml" in problem.message


def test_pairs_with_a_missing_instrument_version(tmp_path: Path) -> None:
    colleague = mutate(COLLEAGUE, "  version: 1\n", "  version: 2\n")
    directory = write_dir(tmp_path, {"themes.yaml": THEMES, "mini.yaml": MINI,
                                     "colleague.yaml": colleague})
    [problem] = check_directory(directory)
    assert (problem.file, problem.field) == ("colleague.yaml", "pairs_with")
    assert "no instrument mini v2 to pair with" in problem.message


def test_missing_themes_file_is_reported(tmp_path: Path) -> None:
    directory = write_dir(tmp_path, {"mini.yaml": MINI})
    messages = [str(p) for p in check_directory(directory)]
    assert messages == [f"themes.yaml: not found in {directory}; every item must name a theme "
                        "from it"]


def test_empty_file_is_reported(tmp_path: Path) -> None:
    directory = write_dir(tmp_path, {"themes.yaml": THEMES, "empty.yaml": "# nothing yet\n"})
    assert [str(p) for p in check_directory(directory)] == ["empty.yaml: file is empty"]


def test_file_that_is_not_a_mapping_is_reported(tmp_path: Path) -> None:
    directory = write_dir(tmp_path, {"themes.yaml": THEMES, "list.yaml": "- one\n- two\n"})
    [problem] = check_directory(directory)
    assert problem.file == "list.yaml"
    assert "an instrument file must be a mapping" in problem.message


def test_missing_directory_is_reported(tmp_path: Path) -> None:
    [problem] = check_directory(tmp_path / "nowhere")
    assert problem.message == "not a directory of instrument files"
