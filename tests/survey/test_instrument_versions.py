"""A version with responses is frozen: an edited file is refused, by the check and at answer time."""

from __future__ import annotations

import dataclasses

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from instruments import load_instrument
from survey import models as m
from survey.services import instrument_versions
from tests import factories as f


def _response(db: Session, content_hash: str) -> None:
    invitation = f.InvitationFactory()
    db.add(m.Response(invitation=invitation, instrument_id="peer_worker", instrument_version=1,
                      instrument_hash=content_hash))
    db.commit()


def test_unchanged_files_pass_the_check(db: Session, runner: FlaskCliRunner) -> None:
    _response(db, load_instrument("peer_worker", 1).content_hash)
    assert instrument_versions.problems(db) == []
    result = runner.invoke(args=["instruments", "check"])
    assert result.exit_code == 0, result.output


def test_edited_version_with_responses_is_reported(db: Session, runner: FlaskCliRunner) -> None:
    _response(db, "f" * 64)  # recorded when the file had other content
    found = instrument_versions.problems(db)
    assert len(found) == 1
    assert "'peer_worker' version 1 has 1 response(s)" in found[0]
    assert "version: 2" in found[0]
    result = runner.invoke(args=["instruments", "check"])
    assert result.exit_code == 1
    assert "is frozen" in result.output


def test_answers_against_an_edited_version_are_refused(db: Session) -> None:
    instrument = load_instrument("peer_worker", 1)
    _response(db, instrument.content_hash)
    edited = dataclasses.replace(instrument, content_hash="e" * 64)
    instrument_versions.ensure_unchanged(db, instrument)  # same content: fine
    with pytest.raises(instrument_versions.InstrumentVersionChanged, match="frozen"):
        instrument_versions.ensure_unchanged(db, edited)


def test_study_naming_a_missing_instrument_is_reported(db: Session) -> None:
    study = f.StudyFactory(code="s1", instruments=False)
    db.add(m.StudyInstrument(study=study, role=m.Role.PEER_WORKER, instrument_id="peer_worker",
                             instrument_version=9))
    db.commit()
    found = instrument_versions.problems(db)
    assert len(found) == 1 and "study 's1'" in found[0] and "version 9" in found[0]


def test_study_consent_version_without_text_is_reported(db: Session) -> None:
    f.StudyFactory(code="s2", consent_version="7")
    db.commit()
    found = instrument_versions.problems(db)
    assert found == ["study 's2' asks for consent version 7, but there is no text for it: add "
                     "survey/templates/respondent/consent/v7.html"]


def test_a_new_response_on_an_edited_version_is_refused(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from survey.services import responses

    _response(db, "f" * 64)  # someone answered version 1 when it had other content
    invitation = f.InvitationFactory(sent=True)
    db.commit()
    with pytest.raises(instrument_versions.InstrumentVersionChanged):
        responses.start_or_resume(db, invitation)
