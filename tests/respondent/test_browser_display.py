"""One question at a time and larger text in a real headless Chromium, by keyboard alone.

A peer worker opens the display settings on a survey page with the keyboard, switches on one
question at a time and larger text, answers, goes back, switches to Welsh and back to pages;
every page has 0 axe violations at a phone width and at 320 px (no sideways scrolling), in
both modes and both languages. With SCREENSHOTS_DIR set, each mode is photographed at 390 and
1280 px (support-*.png) for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from survey import models as m
from tests import factories as f
from tests.respondent.conftest import make_link, see_committed, stored_answers
from tests.respondent.test_browser import PHONE, check_accessible

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("SCREENSHOTS_DIR")


def _shoot(page: Any, name: str) -> None:
    """Photograph the page at 390 and 1280 px when SCREENSHOTS_DIR is set."""
    if not SHOTS:
        return
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(Path(SHOTS) / f"support-{name}-{width}.png"), full_page=True)
    page.set_viewport_size(PHONE)


def _tab_to(page: Any, selector: str, limit: int = 40) -> None:
    """Press Tab until `selector` has the focus (it must be reachable by keyboard)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


def _settings(page: Any, one_question: bool, larger_text: bool) -> None:
    """Open the display settings, set both boxes and apply them, by keyboard only."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Home")
    _tab_to(page, ".display-settings summary")
    page.keyboard.press("Enter")  # opens the details
    for box, wanted in (("#display-one-question", one_question), ("#display-larger-text", larger_text)):
        _tab_to(page, box)
        if page.is_checked(box) != wanted:
            page.keyboard.press("Space")
        assert page.is_checked(box) == wanted
    _tab_to(page, ".display-actions button")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _choose(page: Any, item: str, value: str) -> None:
    """Choose an answer by keyboard: focus its first option with Tab, arrow to the value."""
    _tab_to(page, f'input[name="{item}"]')
    page.keyboard.press("Space")
    for _ in range(6):
        if page.is_checked(f'input[name="{item}"][value="{value}"]'):
            return
        page.keyboard.press("ArrowRight")
    raise AssertionError(f"could not choose {value} for {item}")


def _save(page: Any) -> None:
    """Press Enter on the focused answer: the form's first button, "Save and continue"."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_one_question_at_a_time_and_larger_text_by_keyboard(
        db: Session, browser: Any, live_server: str) -> None:
    study = f.StudyFactory(instruments=False)
    db.add(m.StudyInstrument(study=study, role=m.Role.PEER_WORKER, instrument_id="peer_worker",
                             instrument_version=2))
    person = f.ParticipantFactory(study=study, consented=True)
    link = make_link(db, participant=person, wave=f.WaveFactory(study=study, index=1))
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server}{link.url}/page/1")
    check_accessible(page, "page mode (en)")
    _shoot(page, "pages")
    total_pages = page.locator("progress").get_attribute("max")

    _settings(page, one_question=True, larger_text=True)
    assert page.url.endswith("/page/1")
    assert page.locator("body.text-larger").count() == 1
    assert page.locator("fieldset.likert").count() == 1
    assert page.locator(".progress label").inner_text().startswith("Question 1 of")
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('legend')).fontSize)")
    assert size >= 1.125 * 16 * 1.25 - 0.5  # the body text size, a quarter larger
    check_accessible(page, "one question, larger text (en)")
    _shoot(page, "one-question-larger")
    _tab_to(page, ".display-settings summary")
    page.keyboard.press("Enter")  # the settings open: checked as they are, and axe-clean
    assert page.is_checked("#display-one-question") and page.is_checked("#display-larger-text")
    check_accessible(page, "settings open, one question, larger text (en)")
    _shoot(page, "settings-open")
    page.keyboard.press("Enter")  # and closed again

    first = page.locator("fieldset.likert").get_attribute("id")
    _choose(page, first, "4")
    _save(page)
    assert page.url.endswith("/page/2") and page.locator("fieldset.likert").count() == 1
    # Back to question 1 by keyboard: the answer is there.
    _tab_to(page, 'a[href$="/page/1"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.is_checked(f'input[name="{first}"][value="4"]')

    # Welsh, by the page's own switch (keyboard): still one question, with the answer as chosen.
    _tab_to(page, 'button[lang="cy"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_attribute("html", "lang") == "cy"
    assert page.locator(".progress label").inner_text().startswith("Cwestiwn 1 o")
    assert page.is_checked(f'input[name="{first}"][value="4"]')
    check_accessible(page, "one question, larger text (cy)")
    _settings(page, one_question=True, larger_text=False)
    check_accessible(page, "one question (cy)")
    _shoot(page, "one-question")

    # Back to pages, in Welsh: the first page, its saved answer filled in.
    _settings(page, one_question=False, larger_text=False)
    assert page.url.endswith("/page/1")
    assert page.locator(".progress label").inner_text() == f"Tudalen 1 o {total_pages}"
    assert page.locator("fieldset.likert").count() > 1
    assert page.is_checked(f'input[name="{first}"][value="4"]')
    check_accessible(page, "page mode (cy)")
    context.close()

    assert stored_answers(db, link.invitation) == {first: 4}
    see_committed(db)
    assert db.get(m.Participant, person.id).one_question is False  # type: ignore[union-attr]
