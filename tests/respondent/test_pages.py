"""Questionnaire pages: built from the instrument, saved on every page, resumed where left."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instruments import load_instrument
from survey import models as m
from tests import factories as f
from tests.respondent.conftest import PersonalLink, make_link, post_form, see_committed, stored_answers

PEER = load_instrument("peer_worker", 1)


def test_page_has_a_fieldset_per_item_progress_and_time_frame(client: FlaskClient, link: PersonalLink) -> None:
    html = client.get(f"{link.url}/page/1").get_data(as_text=True)
    first = PEER.pages(first_wave=True)[0]
    assert html.count("<fieldset class=\"likert") == len(first.items)
    assert html.count("<legend>") == len(first.items)
    for item in first.items:
        assert f"<legend>{item.text}</legend>" in html.replace("&#39;", "'")
        assert html.count(f'name="{item.id}" type="radio"') == 6  # five answers and "Does not apply"
    assert "Page 1 of 7" in html and '<progress id="progress" max="7" value="1">' in html
    assert html.count(PEER.time_frame) == 1
    assert "skip any question" in html
    assert "/withdraw" in html


def test_baseline_items_appear_only_at_the_first_wave(db: Session, client: FlaskClient) -> None:
    person = f.ParticipantFactory(consented=True)
    later = make_link(db, participant=person, wave=f.WaveFactory(study=person.study, index=2))
    html = client.get(f"{later.url}/page/1").get_data(as_text=True)
    assert "Page 1 of 6" in html
    baseline_ids = {i.id for i in PEER.items if i.baseline_only}
    assert baseline_ids
    for number in range(1, 7):
        page_html = client.get(f"{later.url}/page/{number}").get_data(as_text=True)
        assert not any(item_id in page_html for item_id in baseline_ids)
        post_form(client, f"{later.url}/page/{number}")
    assert client.get(f"{later.url}/page/7").headers["Location"].endswith("/thanks")


def test_answers_are_saved_and_the_link_resumes_at_the_next_page(
    db: Session, client: FlaskClient, app: object, link: PersonalLink
) -> None:
    response = post_form(client, f"{link.url}/page/1", {"pw_id_1": "4", "pw_id_2": "na", "pw_id_3": "1"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/page/2")
    assert stored_answers(db, link.invitation) == {"pw_id_1": 4, "pw_id_2": None, "pw_id_3": 1}
    # A new browser (no cookies) opening the emailed link again resumes at page 2.
    fresh = app.test_client()  # type: ignore[attr-defined]
    assert fresh.get(link.url).headers["Location"].endswith("/page/2")
    # Going back shows the earlier answers filled in.
    html = fresh.get(f"{link.url}/page/1").get_data(as_text=True)
    assert re.search(r'name="pw_id_1" type="radio" value="4" checked|checked[^>]*name="pw_id_1"[^>]*value="4"', html)
    assert re.search(r'checked[^>]*name="pw_id_2"[^>]*value="na"|name="pw_id_2" type="radio" value="na" checked', html)


def test_a_page_of_skipped_items_counts_as_done(db: Session, client: FlaskClient, link: PersonalLink) -> None:
    post_form(client, f"{link.url}/page/1")
    assert client.get(link.url).headers["Location"].endswith("/page/2")
    assert stored_answers(db, link.invitation) == {}


def test_later_pages_cannot_be_reached_before_earlier_ones(client: FlaskClient, link: PersonalLink) -> None:
    post_form(client, f"{link.url}/page/1", {"pw_id_1": "5"})
    for number in (0, 3, 7, 99):
        assert client.get(f"{link.url}/page/{number}").headers["Location"].endswith("/page/2")
    skipped_ahead = post_form(client, f"{link.url}/page/5", {"pw_em_1": "5"})
    assert skipped_ahead.headers["Location"].endswith("/page/2")


def test_changing_an_answer_updates_it_without_duplicates(
    db: Session, client: FlaskClient, link: PersonalLink
) -> None:
    for value in ("2", "3", "3"):
        post_form(client, f"{link.url}/page/1", {"pw_id_1": value, "pw_id_4": "5"})
    post_form(client, f"{link.url}/page/1", {"pw_id_1": "1"})  # pw_id_4 now left blank
    assert stored_answers(db, link.invitation) == {"pw_id_1": 1}
    assert db.scalar(select(func.count()).select_from(m.Response)) == 1


def test_first_visit_starts_a_response_pinned_to_the_instrument(
    db: Session, client: FlaskClient, link: PersonalLink
) -> None:
    client.get(f"{link.url}/page/1")
    client.get(f"{link.url}/page/1")
    see_committed(db)
    response = db.scalars(select(m.Response)).one()
    assert (response.instrument_id, response.instrument_version) == ("peer_worker", 1)
    assert response.instrument_hash == PEER.content_hash
    assert db.get(m.Invitation, link.invitation.id).status == m.InvitationStatus.STARTED  # type: ignore[union-attr]


def test_colleagues_get_the_colleague_questionnaire(db: Session, client: FlaskClient) -> None:
    colleague = make_link(db, participant=f.ParticipantFactory(colleague=True, consented=True))
    html = client.get(f"{colleague.url}/page/1").get_data(as_text=True)
    colleague_instrument = load_instrument("colleague", 1)
    assert colleague_instrument.title in html
    assert f"Page 1 of {len(colleague_instrument.pages(first_wave=True))}" in html
