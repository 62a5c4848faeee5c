"""Content hashes ignore layout and comments; scale fingerprints tell which scores compare."""

from __future__ import annotations

from pathlib import Path

import yaml

from instruments import (
    Instrument,
    comparable_scales,
    content_hash,
    load_instrument,
    scale_fingerprint,
)

from .builders import MINI, THEMES, mutate, write_dir


def _mini(directory: Path, text: str = MINI) -> Instrument:
    """Load `text` as the only instrument in `directory`."""
    return load_instrument("mini", directory=write_dir(directory, {
        "themes.yaml": THEMES, "mini.yaml": text}))


# A small fixed file and its canonical JSON (keys sorted, no spaces, UTF-8), written out by hand:
TINY = "id: tiny\nversion: 2\ntitle: Café check\nitems: [{id: b, scale: s}, {id: a, reverse: true}]\n"
# printf '%s' '{"id":"tiny","items":[{"id":"b","scale":"s"},{"id":"a","reverse":true}],"title":"Café check","version":2}' | sha256sum
TINY_SHA256 = "9abb231924899e9641d52c85bc0698ee6583df930848ce2f98f28b5208e1b18f"
# The same for builders.MINI: its canonical JSON (json.dumps(yaml.safe_load(MINI), sort_keys=True,
# separators=(",", ":"), ensure_ascii=False)) saved to a file, then `sha256sum` of that file.
# If MINI is edited on purpose, recompute it that way.
MINI_SHA256 = "e1a64015d7ddbe0cc1272078fd3f1207df22b4be7d0b9f8aeb302242d1fcf330"


def test_hash_is_sha256_of_canonical_json() -> None:
    assert content_hash(yaml.safe_load(TINY)) == TINY_SHA256


def test_loaded_instrument_carries_the_hash_of_its_parsed_file(tmp_path: Path) -> None:
    assert _mini(tmp_path).content_hash == MINI_SHA256


def test_comments_whitespace_and_flow_style_do_not_change_the_hash(tmp_path: Path) -> None:
    reformatted = "# a new comment\n\n" + mutate(
        MINI, "  - {value: 1, label: Strongly disagree}\n",
        "  -   value: 1     # lowest\n      label: 'Strongly disagree'\n")
    original = _mini(tmp_path / "a")
    changed = _mini(tmp_path / "b", reformatted)
    assert changed.content_hash == original.content_hash


def test_any_change_of_content_changes_the_hash(tmp_path: Path) -> None:
    original = _mini(tmp_path / "a")
    edited = _mini(tmp_path / "b", mutate(MINI, "Some help.", "Other help."))
    assert edited.content_hash != original.content_hash


def test_versions_sharing_a_scale_definition_stay_comparable(tmp_path: Path) -> None:
    v1 = _mini(tmp_path / "a")
    v2_text = mutate(MINI, "version: 1\n", "version: 2\n")
    v2_text = mutate(v2_text, "I am item b two.", "I am item b two, reworded.")
    v2_text = mutate(v2_text, "title: Mini survey", "title: Mini survey, second edition")
    v2 = _mini(tmp_path / "b", v2_text)
    assert comparable_scales(v1, v2) == ["first", "start"]
    assert scale_fingerprint(v1, "first") == scale_fingerprint(v2, "first")
    assert scale_fingerprint(v1, "second") != scale_fingerprint(v2, "second")


def test_a_changed_reverse_key_or_threshold_breaks_comparability(tmp_path: Path) -> None:
    v1 = _mini(tmp_path / "a")
    rekeyed = mutate(MINI, "    reverse: false\n    theme: gamma\n    help",
                     "    reverse: true\n    theme: gamma\n    help")
    rekeyed = mutate(rekeyed, "    min_answered: 0.6\n  - id: second",
                     "    min_answered: 0.5\n  - id: second")
    v2 = _mini(tmp_path / "b", rekeyed)
    assert comparable_scales(v1, v2) == ["start"]
