"""The gettext catalogues: up to date with the code, complete, and compiled for the app."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from survey.i18n import TRANSLATIONS_DIR, catalogues, compile_catalogues, translations

ROOT = Path(__file__).resolve().parents[2]
PYBABEL = Path(sys.executable).parent / "pybabel"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _extracted(tmp_path: Path) -> set[str]:
    """The msgids the code marks today, extracted exactly as `make translations` does."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(PYBABEL), "extract", "-F", "babel.cfg", "-k", "lazy_gettext", "-k", "_l",
         "--no-location", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True, timeout=120)
    with pot.open("rb") as handle:
        return {str(m.id) for m in read_po(handle) if m.id}


@pytest.mark.parametrize("language", sorted(catalogues()))
def test_catalogue_is_up_to_date_with_the_code(language: str, tmp_path: Path) -> None:
    with catalogues()[language].open("rb") as handle:
        in_po = {str(m.id) for m in read_po(handle, locale=language) if m.id}
    marked = _extracted(tmp_path)
    assert marked, "nothing was extracted: is babel.cfg right?"
    missing, stale = sorted(marked - in_po), sorted(in_po - marked)
    assert not missing and not stale, (
        f"{language} catalogue is out of date: run `make translations` and translate. "
        f"Not in the catalogue: {missing}; no longer in the code: {stale}")


@pytest.mark.parametrize("language", sorted(catalogues()))
def test_every_string_is_translated_and_none_is_fuzzy(language: str) -> None:
    with catalogues()[language].open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    messages = [m for m in catalogue if m.id]
    assert len(messages) >= 90
    untranslated = [m.id for m in messages if not m.string]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert not untranslated, f"untranslated in {language}: {untranslated}"
    assert not fuzzy, f"fuzzy (check and clear the flag) in {language}: {fuzzy}"
    for message in messages:  # the same placeholders, or the page breaks at run time
        assert sorted(PLACEHOLDER.findall(str(message.id))) == sorted(
            PLACEHOLDER.findall(str(message.string))), message.id


def test_the_compiled_catalogue_is_current_and_loads() -> None:
    assert compile_catalogues() == []
    for language, po in catalogues().items():
        mo = po.with_suffix(".mo")
        assert mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime
        assert translations(language).gettext("Save and continue") != "Save and continue"


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
def test_compiled_catalogues_are_not_committed() -> None:
    tracked = subprocess.run(["git", "ls-files", str(TRANSLATIONS_DIR)], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split()
    assert tracked and not [name for name in tracked if name.endswith(".mo")]
    assert "*.mo" in (ROOT / ".gitignore").read_text().split()


def test_a_missing_or_stale_mo_is_compiled_and_failures_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import survey.i18n as i18n

    shipped = catalogues()["cy"]
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path)
    po = tmp_path / "cy" / "LC_MESSAGES" / "messages.po"
    assert i18n.compile_catalogues() == [f"{po} is missing: Cymraeg pages will be in English"]
    po.parent.mkdir(parents=True)
    shutil.copy(shipped, po)
    assert i18n.compile_catalogues() == []  # missing: compiled
    mo = po.with_suffix(".mo")
    assert mo.stat().st_size > 1000
    mo.unlink()
    mo.mkdir()  # cannot be written: said so (the app logs it and its pages stay in English)
    [problem] = i18n.compile_catalogues()
    assert problem.startswith(f"cannot compile {po}") and "run `make translations`" in problem
