"""Conditional questions in a real headless Chromium: axe-core at 1280, 390 and 320 px, the
reveal by keyboard only (GOV.UK pattern), and the page without JavaScript."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.browser_fixtures import AXE_OPTIONS
from tests.respondent.test_browser import AXE, check_accessible, submit
from tests.respondent.test_conditions import _response, conditional_dir, mini_link

pytestmark = pytest.mark.browser
__all__ = ["conditional_dir"]  # the fixture, used by name
WIDE = {"width": 1280, "height": 900}


def _to_background_page(page: Any, url: str) -> None:
    """Pages 1 and 3 (page 2 hidden by a1 = 2), then the page with same-page conditions."""
    page.goto(f"{url}/page/1")
    page.locator('input[name="a1"][value="2"]').check()
    submit(page)
    assert page.url.endswith("/page/3")
    submit(page)
    assert page.locator("h1").inner_text() == "About you"


def test_a_conditional_question_is_revealed_by_keyboard_and_accessible(
        conditional_dir: Path, db: Session, page: Any, live_server: str) -> None:
    link = mini_link(db)
    _to_background_page(page, live_server + link.url)
    useful = page.locator("#conditional-useful")
    long_hours = page.locator("#conditional-long_hours")
    assert useful.is_hidden() and long_hours.is_hidden()  # nothing chosen yet
    for viewport in (WIDE, {"width": 390, "height": 844}):
        page.set_viewport_size(viewport)
        results = AXE.run(page, options=AXE_OPTIONS)
        assert results.violations_count == 0, results.generate_report()
    check_accessible(page, "conditional page, follow-up hidden")
    # Keyboard only: Tab to the first radio of 'supervised', arrows choose, the follow-up opens.
    first = page.locator("#supervised-0")
    assert first.get_attribute("aria-controls") == "conditional-useful"
    page.locator("h1").click()
    for _ in range(20):
        page.keyboard.press("Tab")
        if first.evaluate("el => el === document.activeElement"):
            break
    assert first.evaluate("el => el === document.activeElement")
    page.keyboard.press("Space")  # Yes (value 1)
    assert first.is_checked() and useful.is_visible()
    page.keyboard.press("Tab")  # the revealed question is next in the tab order
    assert page.evaluate("document.activeElement.name") == "useful"
    page.keyboard.press("Space")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("ArrowDown")  # No: the follow-up hides again
    assert page.locator("#supervised-1").is_checked() and useful.is_hidden()
    page.keyboard.press("ArrowUp")  # Yes again: it is shown, its answer kept
    assert useful.is_visible() and page.locator("#useful-0").is_checked()
    # A number reveals too: more than 37 hours (and the role is one the condition names).
    page.get_by_label("How many hours a week do you work?").fill("40")
    assert long_hours.is_visible()
    for viewport in (WIDE, {"width": 390, "height": 844}):
        page.set_viewport_size(viewport)
        results = AXE.run(page, options=AXE_OPTIONS)
        assert results.violations_count == 0, results.generate_report()
    check_accessible(page, "conditional page, follow-ups shown")
    page.get_by_label("How many hours a week do you work?").fill("20")
    assert long_hours.is_hidden()
    submit(page)
    assert page.locator("h1").inner_text() == "Your supervision"  # its page's condition is met
    answers = {a.item_id: a.stored for a in _response(db, link).answers}
    assert answers["supervised"] == 1 and answers["useful"] == 1 and answers["hours"] == 20.0


def test_without_javascript_every_question_is_shown_and_the_server_decides(
        conditional_dir: Path, db: Session, browser: Any, live_server: str) -> None:
    link = mini_link(db)
    context = browser.new_context(viewport=WIDE, java_script_enabled=False)
    page = context.new_page()
    try:
        _to_background_page(page, live_server + link.url)
        assert page.locator("#conditional-useful").is_visible()
        page.locator("#supervised-1").check()  # No
        page.locator("#useful-1").check()  # answered anyway: discarded
        submit(page)
        assert page.url.endswith("/thanks")
    finally:
        context.close()
    response = _response(db, link)
    assert "useful" not in {a.item_id for a in response.answers}
    assert "useful" in response.items_not_asked
