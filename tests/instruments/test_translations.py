"""Texts in more languages: every declared language complete, reviews recorded, hashes unchanged."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from instruments import load_instrument
from instruments.cli import run_check
from instruments.codebook import codebook_markdown, codebook_rows
from instruments.loader import load_all, read_catalogue
from instruments.translations import localised, source_texts

from .builders import MINI, THEMES, write_dir

#: The shipped version 2 files' content hashes before Welsh was added (git ad6cc06): adding a
#: translation must not change them, or responses already recorded would refuse to load.
V2_HASHES = {
    ("peer_worker", 2): "9d64ab787f563eb3bc2fe342f82fc4eaed3bf7de99e2e6adeae9ea80fbf67bf6",
    ("colleague", 2): "533ce4eb0ed9a77285213b0d5bb4465307a4403eeaed95b45e1d7e4b0225b6e8",
}


def _nested(texts: dict[str, str]) -> dict[str, Any]:
    """Dotted keys ('items.a1.text') as the nested mapping a file gives."""
    root: dict[str, Any] = {}
    for key, value in texts.items():
        *path, last = key.split(".")
        node = root
        for part in path:
            node = node.setdefault(int(part) if part.isdigit() else part, {})
        node[int(last) if last.isdigit() else last] = value
    return root


def welsh_mini(tmp_path: Path, drop: str | None = None, review: str = "",
               languages: str = "[en, cy]") -> Path:
    """MINI with a complete (or, without `drop`, one text short) Welsh block."""
    english = write_dir(tmp_path / "en", {"themes.yaml": THEMES, "mini.yaml": MINI})
    texts = {k: f"CY {v}" for k, v in source_texts(load_all(english)[0]).items() if k != drop}
    block = yaml.safe_dump({"translations": {"cy": _nested(texts)}}, allow_unicode=True)
    text = MINI.replace("audience:", f"languages: {languages}\naudience:", 1) + block + review
    return write_dir(tmp_path / "cy", {"themes.yaml": THEMES, "mini.yaml": text})


def _check(directory: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_check(directory, out, err)
    return code, out.getvalue(), err.getvalue()


def test_adding_welsh_kept_the_shipped_content_hashes() -> None:
    for (instrument_id, version), digest in V2_HASHES.items():
        instrument = load_instrument(instrument_id, version)
        assert instrument.languages == ("en", "cy")
        assert instrument.content_hash == digest


def test_a_complete_translation_loads_and_words_the_same_questionnaire(tmp_path: Path) -> None:
    directory = welsh_mini(tmp_path)
    [mini] = load_all(directory)
    english = load_all(tmp_path / "en")[0]
    assert mini.content_hash == english.content_hash  # translations are outside the hash
    welsh = localised(mini, "cy")
    assert welsh.language == "cy" and welsh.content_hash == mini.content_hash
    assert welsh.item("b1").text == "CY I am item b one." and welsh.item("b1").help == "CY Some help."
    assert welsh.response_options[0].label == "CY Strongly disagree"
    assert [(i.id, i.scale, i.reverse) for i in welsh.items] == [(i.id, i.scale, i.reverse) for i in mini.items]
    assert [p.title for p in welsh.pages(True)][1] == "CY The second page"
    assert localised(mini, "en") is mini


def test_a_declared_language_missing_a_text_is_refused_naming_file_item_and_language(tmp_path: Path) -> None:
    directory = welsh_mini(tmp_path, drop="items.a3.text")
    code, _out, err = _check(directory)
    assert code == 1
    assert "mini.yaml:" in err and "item a3" in err and "translations.cy.items.a3.text" in err
    assert "no 'cy' text: the file declares 'cy', so every text needs one (English: 'I am item a three.')" in err
    code, _out, err = _check(welsh_mini(tmp_path / "opt", drop="response_options.4"))
    assert code == 1 and "translations.cy.response_options.4" in err


def test_unreviewed_texts_warn_and_reviewed_ones_do_not(tmp_path: Path) -> None:
    code, out, err = _check(welsh_mini(tmp_path / "draft"))
    assert code == 0 and out.startswith("OK: mini v1")
    assert err == ("mini.yaml: warning: the Welsh (cy) texts of mini v1 need review by a qualified "
                   "Welsh translator; record reviewed_by and reviewed_on under translations.cy "
                   "once reviewed\n")
    reviewed = welsh_mini(tmp_path / "done")
    path = reviewed / "mini.yaml"
    path.write_text(path.read_text().replace("translations:\n  cy:\n",
                                             "translations:\n  cy:\n    reviewed_by: Eleri Jones\n"
                                             "    reviewed_on: 2026-12-01\n", 1))
    code, out, err = _check(reviewed)
    assert (code, err) == (0, "")
    [mini] = load_all(reviewed)
    row = codebook_rows([mini], {})[0]
    assert row["review_cy"] == "reviewed by Eleri Jones on 2026-12-01"
    assert row["text_cy"] == "CY I am item a one." and row["languages"] == "en cy"


def test_half_a_review_unknown_languages_and_undeclared_blocks_are_refused(tmp_path: Path) -> None:
    half = welsh_mini(tmp_path / "half")
    path = half / "mini.yaml"
    path.write_text(path.read_text().replace("  cy:\n", "  cy:\n    reviewed_by: Eleri Jones\n", 1))
    assert "give both reviewed_by and reviewed_on" in _check(half)[2]
    assert "unknown language 'fr'" in _check(welsh_mini(tmp_path / "fr", languages="[en, cy, fr]"))[2]
    undeclared = _check(welsh_mini(tmp_path / "und", languages="[en]"))[2]
    assert "texts for 'cy', which 'languages' does not declare" in undeclared
    assert "starting with 'en'" in _check(welsh_mini(tmp_path / "first", languages="[cy, en]"))[2]
    typo = welsh_mini(tmp_path / "typo")
    path = typo / "mini.yaml"
    path.write_text(path.read_text().replace("    a1:\n", "    a9:\n", 1))
    err = _check(typo)[2]
    assert "there is no English text 'items.a9.text' to translate" in err and "no 'cy' text" in err


def test_a_translation_change_changes_its_text_hash_not_the_content_hash(tmp_path: Path) -> None:
    first = load_all(welsh_mini(tmp_path / "one"))[0]
    second_dir = welsh_mini(tmp_path / "two")
    path = second_dir / "mini.yaml"
    path.write_text(path.read_text().replace("CY I am item a one.", "CY Fi yw eitem a un.", 1))
    second = load_all(second_dir)[0]
    assert first.content_hash == second.content_hash
    assert first.translations[0].text_hash != second.translations[0].text_hash


def test_the_shipped_codebook_shows_welsh_and_its_review_status() -> None:
    catalogue = read_catalogue()
    markdown = codebook_markdown(catalogue.instruments, catalogue.themes)
    assert markdown.count("### Welsh (cy) texts") == 2
    assert "Status: NEEDS REVIEW by a qualified Welsh translator" in markdown
    welsh = localised(load_instrument("peer_worker", 2), "cy")
    assert f"| pw_id_1 | {welsh.item('pw_id_1').text} |" in markdown
    v1 = [r for r in codebook_rows(catalogue.instruments, catalogue.themes) if r["version"] == "1"]
    assert all(r["text_cy"] == "" and r["languages"] == "en" for r in v1)


@pytest.mark.parametrize("instrument_id", ["peer_worker", "colleague"])
def test_shipped_welsh_is_complete_and_marked_for_review(instrument_id: str) -> None:
    instrument = load_instrument(instrument_id, 2)
    [welsh] = instrument.translations
    assert dict(welsh.texts).keys() == source_texts(instrument).keys()
    assert not welsh.reviewed
    source = (Path(__file__).resolve().parents[2] / "instruments" / f"{instrument_id}_v2.yaml").read_text()
    assert "need review by a qualified Welsh translator" in source.replace("\n# ", " ")
