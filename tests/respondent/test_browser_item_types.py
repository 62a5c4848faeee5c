"""Choice, number and free-text questions in a real headless Chromium: axe-core at 320 px,
keyboard entry, a number error shown and fixed, the answers stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import load_instrument
from survey import models as m
from tests.respondent.conftest import see_committed, v2_link
from tests.respondent.test_browser import check_accessible, submit

pytestmark = pytest.mark.browser

PAGES = [p.id for p in load_instrument("peer_worker", 2).pages(first_wave=True)]


def test_background_and_free_text_pages_are_accessible_and_saved(
    db: Session, page: Any, live_server: str
) -> None:
    link = v2_link(db)
    page.goto(f"{live_server}{link.url}/page/1")
    for _ in range(PAGES.index("about_your_job")):
        submit(page)  # nothing answered: every question may be skipped
    assert page.locator("h1").inner_text() == "About your job"
    check_accessible(page, "background page (choice and number)")

    page.get_by_label("16 to 29 hours").check()
    box = page.get_by_label("How many other peer workers are in your team?")
    assert box.get_attribute("inputmode") == "numeric"
    box.fill("seventy")
    submit(page)
    assert page.locator(".error-summary").is_visible()
    assert "Error: Enter a whole number from 0 to 50" in page.locator("#pw_bg_peers-error").inner_text()
    assert page.get_by_label("16 to 29 hours").is_checked()  # the other answer is kept
    check_accessible(page, "background page with a number error")
    page.locator(".error-summary a").click()
    box = page.get_by_label("How many other peer workers are in your team?")
    assert box.evaluate("el => el === document.activeElement")
    box.fill("")
    page.keyboard.type("2")
    submit(page)

    assert page.locator("h1").inner_text() == "In your own words"
    check_accessible(page, "free-text page")
    words = page.get_by_label("What one thing would make the peer worker role work better in your team?")
    assert "Please do not name anyone" in page.locator(f"#{words.get_attribute('aria-describedby').split()[0]}").inner_text()
    words.fill("Regular supervision from someone who knows peer work.")
    submit(page)
    assert page.url.split("#")[0].endswith("/thanks")

    see_committed(db)
    rows = dict(db.execute(
        select(m.Answer.item_id, m.Answer.value_text).join(m.Response)
        .where(m.Response.invitation_id == link.invitation.id, m.Answer.value_text.is_not(None))
    ).all())
    assert rows == {"pw_open": "Regular supervision from someone who knows peer work."}
    numbers = dict(db.execute(
        select(m.Answer.item_id, m.Answer.value_number).join(m.Response)
        .where(m.Response.invitation_id == link.invitation.id, m.Answer.value_number.is_not(None))
    ).all())
    assert numbers == {"pw_bg_peers": 2.0}
