"""The response, consent and withdrawal services, without HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import get_sessionmaker, utcnow
from survey.services import respondent, responses
from survey.services.consent import needs_consent, record_consent
from survey.services.errors import InputError
from tests import factories as f
from tests.respondent.conftest import PersonalLink


def test_save_page_refuses_answers_the_page_does_not_allow(db: Session, link: PersonalLink) -> None:
    response = responses.start_or_resume(db, link.invitation)
    plan = responses.questionnaire(link.invitation, response)
    for bad in ({"pw_su_1": 3}, {"pw_id_1": 6}, {"pw_id_1": 0}, {"pw_id_1": True}, {"nope": 1}):
        with pytest.raises(InputError):
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


# The respondent path: one call per action, and the caller commits.


def _other_session_sees_response(app: Flask, invitation_id: int) -> bool:
    """Whether a separate session (another request) sees a response for the invitation."""
    session = get_sessionmaker(app)()
    try:
        found = session.scalar(select(m.Response.id).where(m.Response.invitation_id == invitation_id))
        return found is not None
    finally:
        session.close()


def test_open_link_tells_the_state_of_a_link(db: Session, link: PersonalLink) -> None:
    now = utcnow()
    assert respondent.open_link(db, link.token, now).state == respondent.LinkState.OPEN
    assert respondent.open_link(db, "no-such-token", now).state == respondent.LinkState.UNKNOWN
    later = link.invitation.closes_at + dt.timedelta(seconds=1)
    assert respondent.open_link(db, link.token, later).state == respondent.LinkState.CLOSED
    link.invitation.participant.status = m.ParticipantStatus.WITHDRAWN
    assert respondent.open_link(db, link.token, now).state == respondent.LinkState.UNKNOWN


def test_a_whole_questionnaire_through_the_respondent_path(
    app: Flask, db: Session, link: PersonalLink
) -> None:
    shown = respondent.show_page(db, link.token, 1)
    assert isinstance(shown, respondent.PageView) and shown.answers == {} and shown.number == 1
    assert not _other_session_sees_response(app, link.invitation.id), "a service committed"
    db.commit()
    assert _other_session_sees_response(app, link.invitation.id)
    assert respondent.show_page(db, link.token, 3) == respondent.Goto(respondent.Where.PAGE, 1)
    total = shown.plan.total
    for number in range(1, total + 1):
        first = shown.plan.page(number).items[0].id
        goto = respondent.save_page(db, link.token, number, lambda _i, _p, first=first: {first: 4})
        db.commit()
        expected = respondent.Goto(respondent.Where.PAGE, number + 1) if number < total else respondent.Goto(respondent.Where.THANKS)
        assert goto == expected
    assert respondent.entry(db, link.token) == respondent.Goto(respondent.Where.THANKS)
    thanks = respondent.thanks(db, link.token)
    assert isinstance(thanks, respondent.ThanksView) and thanks.scores and thanks.instrument is not None


def test_a_page_answer_the_page_does_not_allow_is_an_input_error(db: Session, link: PersonalLink) -> None:
    with pytest.raises(InputError) as refused:
        respondent.save_page(db, link.token, 1, lambda _i, _p: {"pw_su_1": 3})
    assert "pw_su_1" in refused.value.by_field()


def test_consent_and_withdrawal_through_the_respondent_path(db: Session) -> None:
    fresh = f.OpenInvitationFactory(participant=f.ParticipantFactory())
    from survey.services.tokens import issue_token

    token = issue_token(db, fresh)
    assert respondent.entry(db, token) == respondent.Goto(respondent.Where.CONSENT)
    asked = respondent.give_consent(db, token, None)
    assert isinstance(asked, respondent.ConsentView) and not asked.declined
    assert respondent.give_consent(db, token, True) == respondent.Goto(respondent.Where.ENTRY)
    assert respondent.withdraw(db, token, None) == respondent.WithdrawView(back=True)
    assert respondent.withdraw(db, token, False) == respondent.WithdrawView(back=False, kept=False)
    assert respondent.withdraw(db, token, None) == respondent.Goto(respondent.Where.UNKNOWN_LINK)
