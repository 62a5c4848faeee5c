"""Withdrawal: from any page and any email; all contact stops; answers kept or deleted."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import utcnow
from survey.services.withdrawal import withdraw
from tests import factories as f
from tests.respondent.conftest import PersonalLink, make_link, post_form, see_committed
from tests.respondent.test_completion import answer_everything


def _history(db: Session, client: FlaskClient) -> tuple[PersonalLink, PersonalLink, m.Invitation]:
    """A completed wave 1, an open wave 2 with a pending reminder, a scheduled wave 3."""
    person = f.ParticipantFactory(consented=True)
    first = make_link(db, participant=person, wave=f.WaveFactory(study=person.study, index=1))
    answer_everything(client, first, lambda item: "4")
    second = make_link(db, participant=person, wave=f.WaveFactory(study=person.study, index=2))
    post_form(client, f"{second.url}/page/1", {"pw_id_1": "2"})
    third = f.InvitationFactory(participant=person, wave=f.WaveFactory(study=person.study, index=3),
                                opens_at=utcnow() + dt.timedelta(days=80))
    for key, status in (("remind:2:1", m.OutboxStatus.PENDING), ("invite:2", m.OutboxStatus.SENT)):
        db.add(m.OutboxMessage(dedupe_key=key, kind="remind", invitation_id=second.invitation.id,
                               recipient="a@example.org", subject="s", body_text="b", status=status))
    db.commit()
    return first, second, third


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("choice", ["keep", "delete"])
def test_withdrawal_stops_contact_and_keeps_or_deletes(db: Session, client: FlaskClient, choice: str) -> None:
    first, second, third = _history(db, client)
    assert (_count(db, m.Response), _count(db, m.ScaleScore)) == (2, 7)
    answers_before = _count(db, m.Answer)
    assert answers_before > 0
    response = post_form(client, f"{second.url}/withdraw", {"keep": choice})
    assert response.status_code == 200
    assert "You have left the study" in response.get_data(as_text=True)
    see_committed(db)
    person = db.get(m.Participant, first.invitation.participant_id)
    assert person is not None
    assert person.status == m.ParticipantStatus.WITHDRAWN and person.withdrawn_at is not None
    assert person.withdrawal_keep_data is (choice == "keep")
    statuses = [db.get(m.Invitation, i.id).status for i in (first.invitation, second.invitation, third)]  # type: ignore[union-attr]
    assert statuses == [m.InvitationStatus.COMPLETED, m.InvitationStatus.CANCELLED, m.InvitationStatus.CANCELLED]
    assert dict(db.execute(select(m.OutboxMessage.dedupe_key, m.OutboxMessage.status)).all()) == {
        "remind:2:1": m.OutboxStatus.CANCELLED, "invite:2": m.OutboxStatus.SENT,
    }
    kept = choice == "keep"
    assert _count(db, m.Response) == (2 if kept else 0)
    assert _count(db, m.Answer) == (answers_before if kept else 0)
    assert _count(db, m.ScaleScore) == (7 if kept else 0)
    event = db.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "participant_withdrew")).one()
    assert event.target_id == str(person.id)
    assert event.detail == {"keep_data": kept, "responses_deleted": 0 if kept else 2,
                            "invitations_cancelled": 2, "messages_cancelled": 1}
    # Every link of the person now leads nowhere, and says nothing.
    for link in (first, second):
        assert client.get(link.url).status_code == 404
        assert client.get(f"{link.url}/withdraw").status_code == 404


def test_deleting_keeps_other_peoples_answers(db: Session, client: FlaskClient) -> None:
    other = make_link(db)
    answer_everything(client, other, lambda item: "5")
    _first, second, _ = _history(db, client)
    before = _count(db, m.Answer)
    post_form(client, f"{second.url}/withdraw", {"keep": "delete"})
    see_committed(db)
    assert _count(db, m.Response) == 1
    assert db.scalars(select(m.Response.invitation_id)).one() == other.invitation.id
    assert 0 < _count(db, m.Answer) < before


def test_withdrawal_needs_a_choice(db: Session, client: FlaskClient, link: PersonalLink) -> None:
    response = post_form(client, f"{link.url}/withdraw", {})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "There is a problem" in html
    see_committed(db)
    assert db.get(m.Participant, link.invitation.participant_id).status == m.ParticipantStatus.ACTIVE  # type: ignore[union-attr]


def test_withdrawal_works_from_a_closed_or_completed_link(db: Session, client: FlaskClient) -> None:
    old = make_link(db, status=m.InvitationStatus.EXPIRED)
    assert client.get(old.url).status_code == 410
    page = client.get(f"{old.url}/withdraw")
    assert page.status_code == 200 and "Leave the study" in page.get_data(as_text=True)
    assert post_form(client, f"{old.url}/withdraw", {"keep": "keep"}).status_code == 200


def test_every_respondent_page_links_to_withdrawal(client: FlaskClient, link: PersonalLink) -> None:
    for path in ("/page/1", "/withdraw"):
        html = client.get(link.url + path).get_data(as_text=True)
        assert f'href="{link.url}/withdraw"' in html


def test_withdrawing_twice_changes_nothing(db: Session, link: PersonalLink) -> None:
    person = link.invitation.participant
    assert withdraw(db, person, keep_data=True) is not None
    db.commit()
    assert withdraw(db, person, keep_data=False) is None
    assert person.withdrawal_keep_data is True
