"""Offline-tolerant pages in a real headless Chromium: the browser goes offline mid-survey,
two pages are answered, the session (and its CSRF token) is lost meanwhile, and the browser
comes back online. Every answer must be stored once, in order; a copy sent again changes
nothing; the copies are deleted once sent, and on withdrawal.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import load_instrument
from survey import models as m
from tests import factories as f
from tests.browser_fixtures import AXE_OPTIONS
from tests.respondent.conftest import PersonalLink, make_link, see_committed, stored_answers

pytestmark = pytest.mark.browser

PEER = load_instrument("peer_worker", 1)
PAGES = PEER.pages(first_wave=True)
AXE = Axe()
NARROW = {"width": 320, "height": 640}
SAVED = "Saved on this device; we will send your answers when you are back online."
STORED_KEYS = "Object.keys(localStorage).filter(k => k.startsWith('peerpulse-offline:')).sort()"


def _choices(number: int, shift: int = 0) -> dict[str, str]:
    """A different answer for each item of page `number`."""
    return {item.id: str(1 + (i + number + shift) % 5) for i, item in enumerate(PAGES[number - 1].items)}


def _answer(page: Any, values: dict[str, str]) -> None:
    for item_id, value in values.items():
        page.locator(f'input[name="{item_id}"][value="{value}"]').check()


def _save(page: Any) -> None:
    page.locator("main form .actions button[type=submit]").click()


def _ready(page: Any) -> None:
    """Wait until the page has fetched the later pages it can show offline."""
    page.wait_for_selector("#offline-pages[data-loaded]", state="attached")


def _no_axe_violations(page: Any, name: str) -> None:
    page.set_viewport_size(NARROW)
    results = AXE.run(page, options=AXE_OPTIONS)
    print(f"axe {name} @320px: {results.violations_count} violations")
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= NARROW["width"], f"{name} scrolls sideways at 320 px ({width} px wide)"


def _response(db: Session, link: PersonalLink) -> m.Response:
    see_committed(db)
    return db.scalars(select(m.Response).where(m.Response.invitation_id == link.invitation.id)).one()


def test_offline_mid_survey_two_pages_then_online_stores_every_answer_once_in_order(
    db: Session, page: Any, live_server: str
) -> None:
    link = make_link(db, participant=f.ParticipantFactory(consented=True))
    posts: list[tuple[int, dict[str, str]]] = []

    def record(request: Any) -> None:
        if request.method == "POST" and "/page/" in request.url:
            posts.append((int(request.url.rsplit("/", 1)[1]), dict(parse_qsl(request.post_data or ""))))

    page.on("requestfinished", record)  # the posts that reached the server
    page.goto(f"{live_server}{link.url}/page/1")
    chosen = _choices(1)
    _answer(page, chosen)
    _save(page)  # online: saved by the server, on to page 2 as without JavaScript
    page.wait_for_url(f"**{link.url}/page/2")
    assert stored_answers(db, link.invitation) == {k: int(v) for k, v in chosen.items()}
    _ready(page)

    page.context.set_offline(True)
    for number in (2, 3):
        values = _choices(number)
        chosen.update(values)
        _answer(page, values)
        _save(page)
        page.wait_for_function("n => document.getElementById('progress').value === n", arg=number + 1)
        expect(page.locator("#offline-status")).to_have_text(SAVED)
        assert page.locator("main h1").inner_text() == PAGES[number].title
        assert page.evaluate("document.activeElement.tagName") == "H1"
    _no_axe_violations(page, "page 4 shown offline, with the status")
    keys = page.evaluate(STORED_KEYS)
    assert keys == [f"peerpulse-offline:{link.url}/page/2", f"peerpulse-offline:{link.url}/page/3"]
    copy_of_two = page.evaluate(f"localStorage.getItem({json.dumps(keys[0])})")
    kept = {name for name, _value in json.loads(copy_of_two)["fields"]}
    assert kept == {item.id for item in PAGES[1].items} | {"page_revision"}  # answers only
    assert set(stored_answers(db, link.invitation)) == {item.id for item in PAGES[0].items}

    # The session cookie, and with it the CSRF token of the page, is lost while offline.
    page.context.clear_cookies()
    page.context.set_offline(False)
    expect(page.locator("#offline-status")).to_have_text("Your answers have been sent.")
    assert page.evaluate(STORED_KEYS) == []  # each copy deleted once sent
    assert stored_answers(db, link.invitation) == {k: int(v) for k, v in chosen.items()}
    response = _response(db, link)
    assert response.page_revisions == {PAGES[n].id: 1 for n in range(3)}
    times = {a.item_id: a.answered_at for a in response.answers}
    assert max(times[i.id] for i in PAGES[1].items) <= min(times[i.id] for i in PAGES[2].items)
    assert [number for number, _data in posts] == [1, 2, 3]  # sent in order, once

    # The same copy of page 2 sent again (as after a reply lost on the way): stored once.
    page.evaluate(f"localStorage.setItem({json.dumps(keys[0])}, {json.dumps(copy_of_two)})")
    assert page.url.endswith(f"{link.url}/page/4")  # the page shown offline has its own address
    page.reload()
    page.wait_for_function(f"() => {STORED_KEYS}.length === 0")
    assert [number for number, _data in posts] == [1, 2, 3, 2]
    assert page.url.endswith(f"{link.url}/page/4")  # not sent back: page 4 is where they are
    assert stored_answers(db, link.invitation) == {k: int(v) for k, v in chosen.items()}
    response = _response(db, link)
    duplicates = sum(response.page_revisions.values()) - len(response.page_revisions)
    sent = sum(1 for _number, data in posts for key in data if key not in ("csrf_token", "page_revision"))
    stored = len(response.answers)
    print(f"offline test: answers sent {sent} (page 2's {len(PAGES[1].items)} twice), "
          f"answers stored {stored}, duplicates {duplicates}")
    assert duplicates == 0 and stored == len(chosen)

    # Page 4, online again: on to page 5.
    _answer(page, _choices(4))
    _save(page)
    page.wait_for_url(f"**{link.url}/page/5")


def test_a_number_out_of_range_typed_offline_is_shown_with_its_error_once_online(
    db: Session, page: Any, live_server: str
) -> None:
    study = f.StudyFactory(instruments=False)
    db.add(m.StudyInstrument(study=study, role=m.Role.PEER_WORKER, instrument_id="peer_worker",
                             instrument_version=2))
    person = f.ParticipantFactory(consented=True, study=study)
    link = make_link(db, participant=person, wave=f.WaveFactory(study=study, index=1))
    v2 = load_instrument("peer_worker", 2).pages(first_wave=True)
    number = next(i for i, p in enumerate(v2, start=1) if p.id == "about_your_job")
    for earlier in range(1, number - 1):
        page.goto(f"{live_server}{link.url}/page/{earlier}")
        _save(page)
        page.wait_for_url(f"**/page/{earlier + 1}")
    _ready(page)
    page.context.set_offline(True)
    _save(page)  # page number - 1, kept; the number page is shown from its copy
    page.wait_for_function("n => document.getElementById('progress').value === n", arg=number)
    page.fill('input[name="pw_bg_peers"]', "999")
    _save(page)
    page.wait_for_function("n => document.getElementById('progress').value === n", arg=number + 1)
    page.context.set_offline(False)
    page.wait_for_selector(".error-summary")
    assert page.url.endswith(f"/page/{number}")
    assert page.locator('input[name="pw_bg_peers"]').input_value() == "999"  # as typed
    assert page.evaluate(STORED_KEYS) == []
    see_committed(db)
    assert "pw_bg_peers" not in stored_answers(db, link.invitation)


def test_withdrawing_deletes_the_copies_kept_on_the_device(
    db: Session, page: Any, live_server: str
) -> None:
    link = make_link(db, participant=f.ParticipantFactory(consented=True))
    other = make_link(db, participant=f.ParticipantFactory(consented=True))
    page.goto(f"{live_server}{link.url}/withdraw")
    page.evaluate(
        "([mine, theirs]) => { localStorage.setItem(mine, '{\"fields\": []}');"
        " localStorage.setItem(theirs, '{\"fields\": []}'); }",
        [f"peerpulse-offline:{link.url}/page/2", f"peerpulse-offline:{other.url}/page/2"])
    page.reload()
    assert len(page.evaluate(STORED_KEYS)) == 2  # looking at the page is not leaving
    page.get_by_label("Delete them: remove all my answers and scores").check()
    page.locator("main form .actions button[type=submit]").click()
    page.wait_for_selector("text=You have left the study")
    page.wait_for_function(f"() => !localStorage.getItem({json.dumps(f'peerpulse-offline:{link.url}/page/2')})")
    assert page.evaluate(STORED_KEYS) == [f"peerpulse-offline:{other.url}/page/2"]  # only this link's
    _no_axe_violations(page, "withdrawn")
