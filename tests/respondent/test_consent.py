"""Consent: asked once per participant, recorded with time and version; declining is final."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import utcnow
from tests import factories as f
from tests.respondent.conftest import PersonalLink, make_link, post_form, see_committed


def _unconsented(db: Session) -> PersonalLink:
    return make_link(db, participant=f.ParticipantFactory())


def test_consent_page_says_what_is_asked_and_who_sees_what(db: Session, client: FlaskClient) -> None:
    link = _unconsented(db)
    html = client.get(f"{link.url}/consent").get_data(as_text=True)
    for phrase in (
        "every few months", "You do not have to take part", "Leave the study",
        "groups of at least 5", "Your manager and your team do not see your answers",
        "<legend", "Do you agree to take part?",
    ):
        assert phrase in html, phrase


def test_consent_is_not_asked_of_someone_who_gave_it(client: FlaskClient, link: PersonalLink) -> None:
    response = client.get(f"{link.url}/consent")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(link.url)


def test_giving_consent_records_time_and_version(db: Session, client: FlaskClient) -> None:
    link = _unconsented(db)
    before = utcnow()
    response = post_form(client, f"{link.url}/consent", {"decision": "yes"})
    assert response.status_code == 303
    assert client.get(link.url).headers["Location"].endswith("/page/1")
    see_committed(db)
    person = db.get(m.Participant, link.invitation.participant_id)
    assert person is not None
    assert person.consent_decision == m.ConsentDecision.GIVEN
    assert person.consent_version == "1"
    assert person.consent_at is not None and person.consent_at >= before
    event = db.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "participant_consent")).one()
    assert event.detail == {"decision": "given", "version": "1"}


def test_no_choice_shows_an_error_and_records_nothing(db: Session, client: FlaskClient) -> None:
    link = _unconsented(db)
    response = post_form(client, f"{link.url}/consent", {})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in html and "Choose yes or no" in html
    assert "<title>Error:" in html
    see_committed(db)
    assert db.get(m.Participant, link.invitation.participant_id).consent_decision is None  # type: ignore[union-attr]


def test_declining_is_recorded_and_nothing_else_is_asked(db: Session, client: FlaskClient) -> None:
    link = _unconsented(db)
    person = link.invitation.participant
    later = f.InvitationFactory(participant=person, wave=f.WaveFactory(study=person.study, index=2))
    db.add(m.OutboxMessage(dedupe_key="remind:x", kind="remind", invitation_id=link.invitation.id,
                           recipient="a@example.org", subject="s", body_text="b"))
    db.commit()
    response = post_form(client, f"{link.url}/consent", {"decision": "no"})
    assert response.status_code == 200
    assert "chosen not to take part" in response.get_data(as_text=True)
    see_committed(db)
    assert person.consent_decision == m.ConsentDecision.DECLINED
    assert person.consent_version == "1"
    assert {link.invitation.status, later.status} == {m.InvitationStatus.CANCELLED}
    assert db.scalars(select(m.OutboxMessage.status)).all() == [m.OutboxStatus.CANCELLED]
    # The link asks nothing more, and says nothing about the person.
    assert client.get(link.url).status_code == 404
    assert client.get(f"{link.url}/page/1").status_code == 404
    assert db.scalar(select(m.Response)) is None


def test_a_new_consent_version_is_asked_again(db: Session, client: FlaskClient, link: PersonalLink) -> None:
    study = link.invitation.participant.study
    study.consent_version = "2"
    db.commit()
    assert client.get(link.url).headers["Location"].endswith("/consent")
