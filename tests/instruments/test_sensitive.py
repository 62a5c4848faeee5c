"""Items marked sensitive: an optional flag, checked with a located message, hash-neutral."""

from __future__ import annotations

from pathlib import Path

import pytest

from instruments import InstrumentError, check_directory, load_instrument
from instruments.translations import localised

from .builders import COLLEAGUE, MARK, THEMES, TYPED, marked_line, mutate, write_dir

# The shipped versions' hashes before items could be marked sensitive: adding the optional key
# to the schema must leave every existing version's content hash (its frozen identity) alone.
SHIPPED_HASHES = {
    ("peer_worker", 1): "67d6557351efb32d49f204fe4166e0629f61b42bfe8fc861f5c42a59388e214b",
    ("peer_worker", 2): "9d64ab787f563eb3bc2fe342f82fc4eaed3bf7de99e2e6adeae9ea80fbf67bf6",
    ("colleague", 1): "3d6c7ed2a8212590f03543578694b6aea5f423929ca75d19ac06843948be6bd0",
    ("colleague", 2): "533ce4eb0ed9a77285213b0d5bb4465307a4403eeaed95b45e1d7e4b0225b6e8",
}

SENSITIVE = mutate(TYPED, "    help: Some help.\n", "    help: Some help.\n    sensitive: true\n")
SENSITIVE = mutate(SENSITIVE, "    max_length: 200\n", "    max_length: 200\n    sensitive: true\n")


def _load(tmp_path: Path, text: str) -> list:
    directory = write_dir(tmp_path, {"themes.yaml": THEMES, "mini.yaml": text,
                                     "colleague.yaml": COLLEAGUE})
    return check_directory(directory)


def test_sensitive_items_are_marked_and_others_are_not(tmp_path: Path) -> None:
    assert _load(tmp_path, SENSITIVE) == []
    mini = load_instrument("mini", directory=tmp_path)
    marked = {item.id for item in mini.items if item.sensitive}
    assert marked == {"b1", "open"}  # a Likert item and a free-text item


def test_the_flag_survives_translation(tmp_path: Path) -> None:
    _load(tmp_path, SENSITIVE)
    mini = load_instrument("mini", directory=tmp_path)
    worded = localised(mini, "cy")
    assert worded.item("b1").sensitive and not worded.item("a1").sensitive


def test_marking_an_item_is_a_change_of_content(tmp_path: Path) -> None:
    _load(tmp_path, TYPED)
    plain = load_instrument("mini", directory=tmp_path).content_hash
    other = tmp_path / "other"
    other.mkdir()
    _load(other, SENSITIVE)
    assert load_instrument("mini", directory=other).content_hash != plain


@pytest.mark.parametrize("value", ["maybe", "1", "[true]"])
def test_a_flag_that_is_not_true_or_false_is_located(tmp_path: Path, value: str) -> None:
    text = mutate(TYPED, "    help: Some help.\n",
                  f"    help: Some help.\n    sensitive: {value}  {MARK}\n")
    problems = [p for p in _load(tmp_path, text) if p.field == "sensitive"]
    assert problems, "no problem reported for sensitive"
    assert (problems[0].file, problems[0].line, problems[0].item) == (
        "mini.yaml", marked_line(text), "b1")
    assert "must be true or false" in problems[0].message
    with pytest.raises(InstrumentError):
        load_instrument("mini", directory=tmp_path)


@pytest.mark.parametrize(("instrument_id", "version"), sorted(SHIPPED_HASHES))
def test_shipped_versions_keep_their_hashes(instrument_id: str, version: int) -> None:
    instrument = load_instrument(instrument_id, version)
    assert instrument.content_hash == SHIPPED_HASHES[(instrument_id, version)]
    assert not any(item.sensitive for item in instrument.items)
