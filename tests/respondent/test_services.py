"""The response, consent and withdrawal services, without HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.services import responses
from survey.services.consent import needs_consent, record_consent
from tests import factories as f
from tests.respondent.conftest import PersonalLink


def test_save_page_refuses_answers_the_page_does_not_allow(db: Session, link: PersonalLink) -> None:
    response = responses.start_or_resume(db, link.invitation)
    plan = responses.questionnaire(link.invitation, response)
    for bad in ({"pw_su_1": 3}, {"pw_id_1": 6}, {"pw_id_1": 0}, {"pw_id_1": True}, {"nope": 1}):
        with pytest.raises(responses.AnswerError):
            responses.save_page(db, response, plan, 1, bad)
    assert responses.saved_answers(response) == {}
    assert response.pages_saved == []


def test_save_page_is_idempotent(db: Session, link: PersonalLink) -> None:
    response = responses.start_or_resume(db, link.invitation)
    plan = responses.questionnaire(link.invitation, response)
    for _ in range(3):
        assert responses.save_page(db, response, plan, 1, {"pw_id_1": 2, "pw_id_2": None})
    db.commit()
    assert responses.saved_answers(response) == {"pw_id_1": 2, "pw_id_2": None}
    assert response.pages_saved == [plan.pages[0].id]
    assert plan.first_unsaved(response) == 2
    assert responses.start_or_resume(db, link.invitation) is response


def test_completion_needs_every_page(db: Session, link: PersonalLink) -> None:
    response = responses.start_or_resume(db, link.invitation)
    plan = responses.questionnaire(link.invitation, response)
    responses.save_page(db, response, plan, 1, {})
    with pytest.raises(ValueError, match="page 2"):
        responses.complete(db, response, plan)
    assert response.submitted_at is None


def test_an_edited_instrument_file_is_detected(db: Session, link: PersonalLink) -> None:
    response = responses.start_or_resume(db, link.invitation)
    response.instrument_hash = "0" * 64
    with pytest.raises(responses.InstrumentChanged, match="peer_worker v1 changed"):
        responses.questionnaire(link.invitation, response)


def test_a_role_without_an_instrument_is_a_clear_error(db: Session) -> None:
    study = f.StudyFactory(instruments=False)
    invitation = f.OpenInvitationFactory(participant=f.ParticipantFactory(study=study, consented=True))
    with pytest.raises(LookupError, match="no instrument for the role 'peer_worker'"):
        responses.start_or_resume(db, invitation)


def test_consent_version_change_asks_again(db: Session) -> None:
    person = f.ParticipantFactory()
    assert needs_consent(person)
    record_consent(db, person, given=True, version="1")
    assert not needs_consent(person)
    person.study.consent_version = "2"
    assert needs_consent(person)
    db.commit()
    assert db.scalars(select(m.AuditEvent.actor)).all() == ["participant"]
