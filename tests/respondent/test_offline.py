"""Offline-tolerant pages, without a browser: page revisions (a page is stored once and never
over a newer save), the later pages carried for answering offline, and the withdrawal page
that clears the copies kept on a device."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import instruments.loader
from instruments import load_instrument
from survey import models as m
from tests import factories as f
from tests.instruments.builders import CONDITIONAL, THEMES, write_dir
from tests.respondent.conftest import PersonalLink, make_link, post_form, see_committed, stored_answers

PEER = load_instrument("peer_worker", 1)
PAGES = PEER.pages(first_wave=True)
FIRST = [item.id for item in PAGES[0].items]


@pytest.fixture
def conditional_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An instrument directory holding only the conditional 'mini' instrument."""
    directory = write_dir(tmp_path / "instruments", {"themes.yaml": THEMES, "mini.yaml": CONDITIONAL})
    monkeypatch.setattr(instruments.loader, "INSTRUMENT_DIR", directory)
    return directory


def _revision_shown(client: FlaskClient, link: PersonalLink, number: int) -> str:
    """The revision page `number`'s form carries."""
    html = client.get(f"{link.url}/page/{number}").get_data(as_text=True)
    found = re.search(r'name="page_revision" type="hidden" value="(\d+)"', html)
    assert found, "the page form carries no revision"
    return found.group(1)


def _page_revisions(db: Session, link: PersonalLink) -> dict[str, int]:
    see_committed(db)
    response = db.scalars(select(m.Response).where(m.Response.invitation_id == link.invitation.id)).one()
    return dict(response.page_revisions)


def _answers(value: str, revision: str | None) -> dict[str, str]:
    data = dict.fromkeys(FIRST, value)
    if revision is not None:
        data["page_revision"] = revision
    return data


def test_the_revision_counts_saves_and_a_page_sent_twice_is_stored_once(
    db: Session, client: FlaskClient, link: PersonalLink
) -> None:
    assert _revision_shown(client, link, 1) == "0"
    first = post_form(client, f"{link.url}/page/1", _answers("4", "0"))
    assert first.status_code == 303 and first.headers["Location"].endswith("/page/2")
    assert _revision_shown(client, link, 1) == "1"
    # The same copy again (a copy kept offline and sent twice; other answers to show it is
    # not stored): harmless, the person goes on as if it was saved.
    again = post_form(client, f"{link.url}/page/1", _answers("2", "0"))
    assert again.status_code == 303 and again.headers["Location"].endswith("/page/2")
    assert stored_answers(db, link.invitation) == dict.fromkeys(FIRST, 4)
    assert _page_revisions(db, link) == {PAGES[0].id: 1}


def test_an_older_copy_never_overwrites_a_newer_save(
    db: Session, client: FlaskClient, link: PersonalLink
) -> None:
    post_form(client, f"{link.url}/page/1", _answers("4", "0"))
    post_form(client, f"{link.url}/page/1", _answers("5", "1"))  # changed later, from page 1 again
    late = post_form(client, f"{link.url}/page/1", _answers("1", "0"))  # the copy kept offline
    assert late.status_code == 303
    assert stored_answers(db, link.invitation) == dict.fromkeys(FIRST, 5)
    assert _page_revisions(db, link) == {PAGES[0].id: 2}


def test_a_post_without_a_revision_is_stored_as_before(
    db: Session, client: FlaskClient, link: PersonalLink
) -> None:
    post_form(client, f"{link.url}/page/1", _answers("4", "0"))
    post_form(client, f"{link.url}/page/1", _answers("3", None))
    assert stored_answers(db, link.invitation) == dict.fromkeys(FIRST, 3)
    assert _page_revisions(db, link) == {PAGES[0].id: 2}


def test_a_revision_that_is_not_a_whole_number_is_a_400_that_stores_nothing(
    db: Session, client: FlaskClient, link: PersonalLink
) -> None:
    for wrong in ("x", "-1", "1.5", "²", "1" * 10):
        response = post_form(client, f"{link.url}/page/1", _answers("4", wrong))
        assert response.status_code == 400, wrong
        assert "Nothing was saved from it." in response.get_data(as_text=True), wrong  # the 400 page
    assert stored_answers(db, link.invitation) == {}


def test_later_pages_are_carried_for_answering_offline_with_their_revisions(
    db: Session, client: FlaskClient, link: PersonalLink
) -> None:
    post_form(client, f"{link.url}/page/1", _answers("4", "0"))
    response = client.get(f"{link.url}/page/2/ahead")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    carried = re.findall(r'<template class="offline-page" data-action="([^"]+)" data-revision="(\d+)"', html)
    assert carried == [(f"{link.url}/page/{n}", "0") for n in range(3, len(PAGES) + 1)]
    assert html.count("<fieldset") == sum(len(page.items) for page in PAGES[2:])
    assert 'data-button="Send my answers"' in html and html.count('data-button="Save and continue"') == len(PAGES) - 3
    # Shown again, saved page 1 carries page 2 onwards (never itself).
    back = client.get(f"{link.url}/page/1/ahead").get_data(as_text=True)
    assert f'data-action="{link.url}/page/2" data-revision="0"' in back
    assert f'<template class="offline-page" data-action="{link.url}/page/1"' not in back
    # A page not reachable yet carries nothing.
    assert client.get(f"{link.url}/page/5/ahead").status_code == 204


def test_the_status_and_carried_pages_speak_the_persons_language(db: Session, client: FlaskClient) -> None:
    link = make_link(db, participant=f.ParticipantFactory(consented=True, language="cy"))
    page = client.get(f"{link.url}/page/1").get_data(as_text=True).replace("&#39;", "'")
    assert 'role="status" aria-live="polite"' in page
    assert "Wedi'u cadw ar y ddyfais hon; byddwn yn anfon eich atebion pan fyddwch ar-lein eto." in page
    assert f'data-src="{link.url}/page/1/ahead"' in page
    ahead = client.get(f"{link.url}/page/1/ahead").get_data(as_text=True)
    assert 'data-button="Cadw a pharhau"' in ahead and 'data-button="Anfon fy atebion"' in ahead


def test_carrying_stops_at_a_page_with_a_conditional_question(
    conditional_dir: Path, db: Session, client: FlaskClient
) -> None:
    study = f.StudyFactory(instruments=False)
    db.add(m.StudyInstrument(study=study, role=m.Role.PEER_WORKER, instrument_id="mini",
                             instrument_version=1))
    person = f.ParticipantFactory(consented=True, study=study)
    link = make_link(db, participant=person, wave=f.WaveFactory(study=study, index=1))
    html = client.get(f"{link.url}/page/1/ahead").get_data(as_text=True)
    # mini: pages 2 and 4 have questions whose conditions the server decides (3 has none).
    assert re.findall(r'data-action="[^"]+/page/(\d+)"', html) == []
    post_form(client, f"{link.url}/page/1", {"a1": "4", "a2": "3", "a3": "4"})
    after_two = client.get(f"{link.url}/page/2/ahead").get_data(as_text=True)
    assert re.findall(r'data-action="[^"]+/page/(\d+)"', after_two) == ["3"]


def test_the_withdrawal_page_clears_the_copies_kept_on_the_device(
    db: Session, client: FlaskClient, link: PersonalLink
) -> None:
    asked = client.get(f"{link.url}/withdraw").get_data(as_text=True)
    assert "data-offline-clear" not in asked  # only once withdrawn: looking is not leaving
    done = post_form(client, f"{link.url}/withdraw", {"keep": "delete"}).get_data(as_text=True)
    assert '<script src="/static/offline.js" data-offline-clear defer></script>' in done
    see_committed(db)
    assert not db.get(m.Participant, link.invitation.participant_id).is_active
