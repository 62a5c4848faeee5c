"""Choice, number and free-text items: parsed, checked with located messages, documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from instruments import InstrumentError, check_directory, load_instrument
from instruments.answers import parse_number, problem
from instruments.codebook import codebook_markdown, codebook_rows
from instruments.model import CHOICE, NUMBER, TEXT
from instruments.scoring import score_scales
from instruments.versioning import comparable_scales

from .builders import COLLEAGUE, MARK, THEMES, TYPED, marked_line, mutate, write_dir


def _load(tmp_path: Path, text: str = TYPED) -> list:
    directory = write_dir(tmp_path, {"themes.yaml": THEMES, "mini.yaml": text,
                                     "colleague.yaml": COLLEAGUE})
    return check_directory(directory)


def test_typed_items_load_with_their_own_fields(tmp_path: Path) -> None:
    assert _load(tmp_path) == []
    mini = load_instrument("mini", directory=tmp_path)
    hours, peers, weight, open_ = (mini.item(i) for i in ("hours", "peers", "weight", "open"))
    assert (hours.type, [(o.value, o.label) for o in hours.options]) == (
        CHOICE, [(1, "Up to 15 hours"), (2, "16 hours or more")])
    assert hours.scale is None and hours.baseline_only and not hours.is_likert
    assert peers.type == NUMBER and peers.number is not None
    assert (peers.number.minimum, peers.number.maximum, peers.number.integer,
            peers.number.unit) == (0, 50, True, "peer workers")
    assert weight.number is not None and not weight.number.integer
    assert (open_.type, open_.max_length, open_.help) == (TEXT, 200, "Please do not name anyone.")
    # Pages: the scales', the baseline page, then the extra pages; baseline-only ones once.
    assert [p.id for p in mini.pages(first_wave=True)] == [
        "first", "second", "baseline", "about_you", "words"]
    assert [p.id for p in mini.pages(first_wave=False)] == ["first", "second", "words"]
    assert [i.id for i in mini.pages(first_wave=False)[-1].items] == ["weight", "open"]
    assert [i.id for i in mini.likert_items] == ["a1", "a2", "a3", "s1", "s2", "s3", "b1", "b2", "b3"]


def test_typed_items_are_never_scored(tmp_path: Path) -> None:
    _load(tmp_path)
    mini = load_instrument("mini", directory=tmp_path)
    scores = score_scales(mini, {"a1": 5, "a2": 5, "hours": 2, "peers": 3.0, "open": "More time."})
    assert set(scores) == {"first", "second", "start"}
    assert scores["first"].score == 5 and scores["first"].items_answered == 2


def test_answers_are_checked_by_type(tmp_path: Path) -> None:
    _load(tmp_path)
    mini = load_instrument("mini", directory=tmp_path)
    hours, peers, weight, open_ = (mini.item(i) for i in ("hours", "peers", "weight", "open"))
    assert problem(mini, hours, 2) is None
    assert problem(mini, hours, 3) == "answer 3 is not one of [1, 2]"
    assert problem(mini, hours, None) == "item 'hours' has no 'does not apply' answer"
    assert problem(mini, peers, 4.0) is None
    assert problem(mini, peers, 4.5) is not None and problem(mini, peers, 51.0) is not None
    assert problem(mini, open_, "x" * 200) is None
    assert problem(mini, open_, "x" * 201) == "answer has 201 characters; at most 200 are allowed"
    assert parse_number(peers, " 12 ") == 12.0
    assert parse_number(weight, "2.5") == 2.5
    assert parse_number(peers, "twelve") == (
        "Enter a whole number from 0 to 50 (peer workers), using digits (for example 0).")
    assert parse_number(peers, "51") == (
        "Enter a whole number from 0 to 50 (peer workers); 51 is outside this range.")
    assert parse_number(peers, "2.5") == (
        "Enter a whole number from 0 to 50 (peer workers): a whole number, without a "
        "decimal point.")
    assert isinstance(parse_number(weight, "nan"), str)
    assert isinstance(parse_number(weight, "1e3"), str)


HOURS = "  - id: hours\n    type: choice\n"
PEERS_RANGE = "    min: 0\n    max: 50\n"
CASES = {
    "unknown type": ([(HOURS, f"  - id: hours\n    type: slider  {MARK}\n")], "hours", "type",
                     "'slider' is an item type the platform cannot render; use one of likert, "
                     "choice, number, text"),
    "choice without options": (
        [("    options:\n      - {value: 1, label: Up to 15 hours}\n"
          "      - {value: 2, label: 16 hours or more}\n", ""),
         ("  - id: hours\n", f"  - id: hours  {MARK}\n")],
        "hours", "options", "required field is missing"),
    "choice with one option": (
        [("      - {value: 2, label: 16 hours or more}\n", ""),
         ("    options:\n", f"    options:  {MARK}\n")],
        "hours", "options", "a choice item needs at least two options"),
    "choice option value twice": (
        [("{value: 2, label: 16 hours or more}", f"{{value: 1, label: 16 hours or more}}  {MARK}")],
        "hours", "options", "option value 1 is used twice"),
    "negative choice value": (
        [("{value: 2, label: 16 hours or more}", f"{{value: -9, label: 16 hours or more}}  {MARK}")],
        "hours", "options", "option value -9 is negative"),
    "min greater than max": (
        [(PEERS_RANGE, f"    min: 60\n    max: 50  {MARK}\n")], "peers", "max",
        "max 50 is less than min 60"),
    "number that is not a number": (
        [(PEERS_RANGE, f"    min: zero  {MARK}\n    max: 50\n")], "peers", "min",
        "must be a number, got 'zero'"),
    "whole-number range with decimals": (
        [(PEERS_RANGE, f"    min: 0.5  {MARK}\n    max: 50\n")], "peers", "integer",
        "is not whole numbers"),
    "text without a length": (
        [("    max_length: 200\n", ""), ("  - id: open\n", f"  - id: open  {MARK}\n")],
        "open", "max_length", "required field is missing"),
    "text too long": ([("    max_length: 200\n", f"    max_length: 50000  {MARK}\n")],
                      "open", "max_length", "must be from 1 to 5000 characters, got 50000"),
    "unknown page": ([("    page: words\n    max_length", f"    page: word  {MARK}\n    max_length")],
                     "open", "page", "unknown page 'word'; declare it under 'pages'"),
    "scale on a choice item": (
        [("    page: about_you\n    baseline_only: true\n    options",
          f"    page: about_you\n    scale: first  {MARK}\n    baseline_only: true\n    options")],
        "hours", "scale", "unknown field"),
    "page on a likert item": (
        [("    scale: second\n    reverse: true\n",
          f"    scale: second\n    page: words  {MARK}\n    reverse: true\n")],
        "b3", "page", "unknown field"),
    "page used by a scale": (
        [("  - id: words\n", f"  - id: second  {MARK}\n")], None, "pages",
        "page id 'second' is already used"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES)
def test_mistakes_in_typed_items_are_located(tmp_path: Path, case: tuple) -> None:
    edits, item, field, message = case
    text = TYPED
    for old, new in edits:
        text = mutate(text, old, new)
    problems = _load(tmp_path, text)
    matching = [p for p in problems if message in p.message]
    assert matching, "\n".join(map(str, problems))
    assert (matching[0].file, matching[0].line, matching[0].item, matching[0].field) == (
        "mini.yaml", marked_line(text), item, field)
    with pytest.raises(InstrumentError):  # nothing is loaded from a faulty directory
        load_instrument("mini", directory=tmp_path)


def test_codebook_documents_each_type(tmp_path: Path) -> None:
    _load(tmp_path)
    mini = load_instrument("mini", directory=tmp_path)
    rows = {r["item_id"]: r for r in codebook_rows([mini], {})}
    assert rows["hours"]["type"] == "choice"
    assert rows["hours"]["response_options"] == "single choice: 1=Up to 15 hours; 2=16 hours or more"
    assert (rows["peers"]["range"], rows["peers"]["unit"]) == ("0-50 whole numbers", "peer workers")
    assert rows["weight"]["response_options"] == "number: A number from 0.5 to 5."
    assert rows["open"]["max_length"] == "200"
    assert rows["open"]["scale"] == "" and rows["open"]["not_applicable"] == ""
    assert rows["a1"]["type"] == "likert"
    markdown = codebook_markdown([mini], {})
    assert "### Other questions (not scored)" in markdown
    assert "| open | text | What one thing would help? | free text: You can write up to 200 " \
           "characters. | words |" in markdown


def test_shipped_version_two_adds_background_and_free_text_to_version_one() -> None:
    for instrument_id in ("peer_worker", "colleague"):
        one, two = load_instrument(instrument_id, 1), load_instrument(instrument_id, 2)
        # Version 1's items, scales and response scale are unchanged, so scores compare.
        assert [(i.id, i.text, i.scale, i.reverse, i.baseline_only) for i in two.likert_items] == [
            (i.id, i.text, i.scale, i.reverse, i.baseline_only) for i in one.items]
        assert comparable_scales(one, two) == list(one.scales)
        background = two.items_of_type(CHOICE, NUMBER)
        assert len(background) == 4 and all(i.baseline_only for i in background)
        (free,) = two.items_of_type(TEXT)
        assert free.text == "What one thing would make the peer worker role work better in your team?"
        assert not free.baseline_only and free.help is not None and "name" in free.help
        assert [p.id for p in two.pages(first_wave=False)][-1] == "in_your_words"
        assert "about_your_job" in [p.id for p in two.pages(first_wave=True)]
        assert "about_your_job" not in [p.id for p in two.pages(first_wave=False)]
