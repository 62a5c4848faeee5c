"""A respondent walk in Welsh in a real headless Chromium, with axe-core in both languages.

A Welsh participant consents, answers every page of peer_worker v2 in Welsh, switches to
English and back with the keyboard part way through a page (the answers chosen stay), and
finishes; every page has 0 axe violations at a phone width and at 320 px, in both languages.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import load_instrument
from instruments.translations import localised
from survey import models as m
from tests import factories as f
from tests.respondent.conftest import make_link, stored_answers
from tests.respondent.test_browser import PHONE, check_accessible, submit

pytestmark = pytest.mark.browser

WELSH = localised(load_instrument("peer_worker", 2), "cy")
PAGES = WELSH.pages(first_wave=True)


def _lang(page: Any) -> str:
    return str(page.get_attribute("html", "lang"))


def _switch(page: Any, to: str) -> None:
    """Use the language switch with the keyboard (focus it, press Enter)."""
    button = page.locator(f'button[lang="{to}"]')
    assert button.count() == 1
    with page.expect_navigation():
        button.focus()
        page.keyboard.press("Enter")


def test_a_welsh_walk_with_a_switch_to_english_and_back(db: Session, browser: Any, live_server: str) -> None:
    study = f.StudyFactory(instruments=False, show_own_scores=True)
    db.add(m.StudyInstrument(study=study, role=m.Role.PEER_WORKER, instrument_id="peer_worker",
                             instrument_version=2))
    person = f.ParticipantFactory(study=study, language="cy")
    link = make_link(db, participant=person, wave=f.WaveFactory(study=study, index=1))
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()

    page.goto(live_server + link.url)
    assert page.url.endswith("/consent") and _lang(page) == "cy"
    assert page.locator("h1").inner_text() == "Am yr astudiaeth hon"
    check_accessible(page, "consent (cy)")
    page.get_by_label("Ydw, rwy'n cytuno i gymryd rhan").check()
    submit(page)
    assert page.url.endswith("/page/1")

    for number, spec in enumerate(PAGES, start=1):
        assert _lang(page) == "cy" and page.locator("h1").inner_text() == spec.title
        check_accessible(page, f"survey page {number} (cy)")
        if number == 1:
            # Part way through the page: two answers chosen, then English by keyboard.
            first, second = spec.items[0], spec.items[1]
            page.locator(f'input[name="{first.id}"][value="4"]').check()
            page.locator(f'input[name="{second.id}"][value="na"]').check()
            _switch(page, "en")
            assert _lang(page) == "en-GB" and page.url.endswith("/page/1")
            assert page.locator("h1").inner_text() == load_instrument("peer_worker", 2).pages(True)[0].title
            assert page.locator(f'input[name="{first.id}"][value="4"]').is_checked()
            assert page.locator(f'input[name="{second.id}"][value="na"]').is_checked()
            check_accessible(page, "survey page 1 after switching (en)")
            _switch(page, "cy")
            assert _lang(page) == "cy" and page.locator(f'input[name="{first.id}"][value="4"]').is_checked()
        if spec.id == "about_your_job":
            page.locator('input[name="pw_bg_peers"]').fill("2")
        submit(page)

    assert page.url.endswith("/thanks") and _lang(page) == "cy"
    assert page.locator("h1").inner_text() == "Diolch"
    check_accessible(page, "thanks (cy)")
    db.expire_all()
    answers = stored_answers(db, link.invitation)
    assert answers[PAGES[0].items[0].id] == 4 and answers[PAGES[0].items[1].id] is None
    assert db.scalar(select(m.Response.language)) == "cy"

    page.goto(live_server + link.url + "/withdraw")
    assert page.locator("h1").inner_text() == "Gadael yr astudiaeth"
    check_accessible(page, "withdraw (cy)")
    _switch(page, "en")
    assert page.url.endswith("/withdraw") and page.locator("h1").inner_text() == "Leave the study"
    check_accessible(page, "withdraw (en)")

    page.goto(live_server + "/r/no-such-link-0000000000000000?lang=cy")
    assert _lang(page) == "cy" and page.locator("h1").inner_text() == "Nid yw'r ddolen hon yn gweithio"
    check_accessible(page, "invalid link (cy)")
    page.get_by_role("link", name="English").click()
    assert _lang(page) == "en-GB"
    check_accessible(page, "invalid link (en)")
    context.close()
