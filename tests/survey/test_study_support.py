"""A study's support contacts: from its file (checked, located), stored, and in the demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.services.demo import DEMO_STUDY
from survey.services.study_setup import apply_study, read_study_file
from survey.services.support import contacts

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "study.yaml"
BASE = EXAMPLE.read_text(encoding="utf-8").split("support:")[0]


def _write(tmp_path: Path, support: str) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(BASE + support, encoding="utf-8")
    return path


def test_the_example_names_its_contacts_in_both_languages() -> None:
    spec, problems = read_study_file(EXAMPLE)
    assert problems == [] and spec is not None and spec.support is not None
    names = [c["name"] for c in spec.support]
    assert names[1] == {"en": "Samaritans", "cy": "Samariaid"}
    assert spec.support[1]["phone"] == "116 123"


def test_loading_stores_them_and_they_are_worded_per_language(
        db: Session, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["studies", "load", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    study = db.scalars(select(m.Study)).one()
    welsh = contacts(study.support, "cy")
    assert welsh[0].name == "Gwasanaeth llesiant staff eich ymddiriedolaeth"
    assert welsh[1].phone_link == "tel:116123"
    assert contacts(study.support, "en")[1].url == "https://www.samaritans.org"


def test_a_file_without_support_keeps_the_default(db: Session, tmp_path: Path) -> None:
    spec, problems = read_study_file(_write(tmp_path, ""))
    assert problems == [] and spec is not None and spec.support is None
    assert apply_study(db, spec).support is None


CASES = {
    "no Welsh": ("support:\n  - name: {en: Helpline}\n    text: {en: Talk to us., cy: Siaradwch.}\n",
                 2, "support contact 1 name", "cy", "required field is missing"),
    "unknown language": ("support:\n  - name: {en: A, cy: B, fr: C}\n    text: {en: T, cy: T}\n",
                         2, "support contact 1 name", "fr", "unknown field"),
    "bad phone": ("support:\n  - name: {en: A, cy: B}\n    text: {en: T, cy: T}\n    phone: ring us\n",
                  4, "support contact 1", "phone", "digits and spaces"),
    "not https": ("support:\n  - name: {en: A, cy: B}\n    text: {en: T, cy: T}\n"
                  "    url: http://example.org\n", 4, "support contact 1", "url", "https://"),
    "typo": ("support:\n  - name: {en: A, cy: B}\n    txt: {en: T, cy: T}\n",
             3, "support contact 1", "txt", "unknown field"),
    "not a list": ("support: Samaritans\n", 1, None, "support", "non-empty list"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES)
def test_mistakes_are_located(tmp_path: Path, case: tuple) -> None:
    text, offset, item, field, message = case
    spec, problems = read_study_file(_write(tmp_path, text))
    assert spec is None
    line = BASE.count("\n") + offset
    matching = [p for p in problems if message in p.message]
    assert matching, "\n".join(map(str, problems))
    assert (matching[0].line, matching[0].item, matching[0].field) == (line, item, field)


def test_the_demo_study_has_a_support_page() -> None:
    assert DEMO_STUDY.support is not None
    assert {"116 123", "0808 164 0123"} <= {c["phone"] for c in DEMO_STUDY.support}
    for contact in DEMO_STUDY.support:
        assert set(contact["name"]) == set(contact["text"]) == {"en", "cy"}
