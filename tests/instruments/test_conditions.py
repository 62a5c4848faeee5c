"""Conditional questions in instrument files: parsed, checked with file/item/line, decided."""

from __future__ import annotations

from pathlib import Path

import pytest

from instruments import InstrumentError, check_directory, load_instrument, score_scales
from instruments.conditions import shown_items

from .builders import CONDITIONAL, MARK, THEMES, marked_line, mutate, write_dir


def _load(tmp_path: Path, text: str = CONDITIONAL) -> list:
    return check_directory(write_dir(tmp_path, {"themes.yaml": THEMES, "mini.yaml": text}))


def test_conditions_load_on_items_scales_and_pages(tmp_path: Path) -> None:
    assert _load(tmp_path) == []
    mini = load_instrument("mini", directory=tmp_path)
    assert mini.item("useful").show_if.redcap() == "[supervised] = '1'"
    # The scale's (group's) and the page's condition are part of each of their items'.
    assert mini.item("b2").show_if.redcap() == "[a1] = '4' or [a1] = '5'"
    assert mini.item("better").show_if.redcap() == "[supervised] = '1'"
    assert mini.item("long_hours").show_if.redcap() == (
        "[hours] > 37 and ([peerpulse_role] = 'peer_worker' or [peerpulse_role] = 'manager')")
    assert mini.item("a1").show_if is None
    assert mini.item("b1").show_if.words({"a1": {4: "Agree"}}) == "a1 is one of 4 (Agree), 5"


def test_shown_items_follow_answers_and_role(tmp_path: Path) -> None:
    _load(tmp_path)
    mini = load_instrument("mini", directory=tmp_path)
    order = [item for page in mini.pages(first_wave=True) for item in page.items]
    everything = {i.id for i in mini.items}
    shown = shown_items(order, {"a1": 5, "supervised": 1, "hours": 40}, "peer_worker")
    assert shown == everything
    shown = shown_items(order, {"a1": 2, "supervised": 0, "useful": 2, "hours": 40}, "colleague")
    assert everything - shown == {"b1", "b2", "b3", "useful", "better", "long_hours"}
    # "Does not apply" (None) and no answer meet no condition; exactly 37 is not above 37.
    shown = shown_items(order, {"a1": None, "hours": 37}, "manager")
    assert {"b1", "useful", "long_hours"}.isdisjoint(shown)
    assert "long_hours" in shown_items(order, {"hours": 37.5}, "manager")


def test_not_asked_items_never_count_against_min_answered(tmp_path: Path) -> None:
    _load(tmp_path)
    mini = load_instrument("mini", directory=tmp_path)
    # Two of three items answered: 2/3 >= 0.6 either way.
    assert score_scales(mini, {"b1": 4, "b2": 2})["second"].score == 3.0
    # One answered of three is too few; with the other two not asked it is 1 of 1.
    assert score_scales(mini, {"b1": 4})["second"].score is None
    assert score_scales(mini, {"b1": 4, "b2": 5}, not_asked={"b2", "b3"})["second"].score == 4.0
    nothing = score_scales(mini, {"b1": 4}, not_asked={"b1", "b2", "b3"})["second"]
    assert (nothing.score, nothing.items_answered) == (None, 0)


USEFUL_IF = "    show_if: {item: supervised, equals: 1}\n    options:\n      - {value: 1, label: Not useful}"
LONG_IF = "    show_if: {all: [{item: hours, above: 37}, {role: [peer_worker, manager]}]}\n"
PAGE_IF = "    show_if: {item: supervised, equals: 1}\nitems:"


def _useful(condition: str) -> list[tuple[str, str]]:
    return [(USEFUL_IF, USEFUL_IF.replace("{item: supervised, equals: 1}", condition + f"  {MARK}"))]


CASES = {
    "unknown item": (_useful("{item: supervisd, equals: 1}"), "useful", "unknown item 'supervisd'"),
    "later item": (_useful("{item: hours, min: 3}"), "useful",
                   "names item 'hours', which is asked later"),
    "itself": (_useful("{item: useful, equals: 1}"), "useful", "later or is this item"),
    "impossible choice": (_useful("{item: supervised, equals: 2}"), "useful",
                          "'supervised' cannot be answered 2; its answers are 0, 1"),
    "impossible Likert": (_useful("{item: a1, in: [4, 6]}"), "useful",
                          "'a1' cannot be answered 6"),
    "range on a choice": (_useful("{item: supervised, min: 1}"), "useful",
                          "a range (min, max, above, below) tests a number item"),
    "number out of range": ([(LONG_IF, f"    show_if: {{item: hours, above: 70}}  {MARK}\n")],
                            "long_hours", "70 is outside 'hours''s range 0 to 60"),
    "unknown role": ([(LONG_IF, f"    show_if: {{role: nurse}}  {MARK}\n")], "long_hours",
                     "unknown role 'nurse'"),
    "two tests": (_useful("{item: supervised, equals: 1, in: [1]}"), "useful", "give one test"),
    "baseline-only item": (_useful("{item: s1, equals: 2}"), None,
                           "names baseline-only item 's1', which later waves do not ask"),
    "page on its own page": ([(PAGE_IF, f"    show_if: {{item: better, equals: 1}}  {MARK}\nitems:")],
                             "better", "which is asked on the same page"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES)
def test_faulty_conditions_are_refused_by_file_item_and_line(tmp_path: Path, case: tuple) -> None:
    edits, item, message = case
    text = CONDITIONAL
    for old, new in edits:
        text = mutate(text, old, new)
    problems = _load(tmp_path, text)
    matching = [p for p in problems if message in p.message]
    assert matching, "\n".join(map(str, problems))
    found = matching[0]
    assert (found.file, found.line, found.field) == ("mini.yaml", marked_line(text), "show_if")
    if item is not None:
        assert found.item == item
    with pytest.raises(InstrumentError):
        load_instrument("mini", directory=tmp_path)


def test_a_condition_on_free_text_is_refused(tmp_path: Path) -> None:
    # 'better' (free text, on the last page) cannot decide anything: put a question after it.
    text = CONDITIONAL + ("  - id: after\n    type: text\n    text: Anything else?\n    theme: gamma\n"
             "    page: supervision\n    max_length: 100\n"
             f"    show_if: {{item: better, equals: 1}}  {MARK}\n")
    problems = _load(tmp_path, text)
    assert [(p.line, p.item, p.field) for p in problems if "free-text item 'better'" in p.message] \
        == [(marked_line(text), "after", "show_if")]


def test_the_welsh_wording_keeps_conditions_and_randomised_pages() -> None:
    import dataclasses

    from instruments.conditions import EQUALS, Condition
    from instruments.translations import localised

    v2 = load_instrument("peer_worker", 2)
    condition = Condition(EQUALS, "pw_id_1", values=(4.0,))
    first = next(iter(v2.scales.values()))
    changed = dataclasses.replace(
        v2, scales={**v2.scales, first.id: dataclasses.replace(first, show_if=condition,
                                                               randomise=True)},
        extra_pages=tuple(dataclasses.replace(p, show_if=condition, randomise=True)
                          for p in v2.extra_pages))
    welsh = localised(changed, "cy")
    assert welsh.language == "cy" and welsh.title != changed.title
    assert welsh.scales[first.id].show_if == condition and welsh.scales[first.id].randomise
    assert all(p.show_if == condition and p.randomise for p in welsh.extra_pages)
