"""The thank-you page of a person with three answered waves, at 320 px: its score table scrolls
sideways inside a region the keyboard can reach, and axe-core finds no violation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.services.demo import load_demo
from survey.services.tokens import issue_token
from tests.browser_fixtures import AXE_OPTIONS

pytestmark = pytest.mark.browser


def test_thanks_with_three_waves_is_keyboard_reachable_at_320px(db: Session, browser: Any,
                                                                live_server: str) -> None:
    load_demo(db, today=dt.date(2026, 11, 26))
    # The first demo peer worker (by code) who answered the first three waves.
    three = (select(m.Invitation.participant_id)
             .where(m.Invitation.status == m.InvitationStatus.COMPLETED)
             .group_by(m.Invitation.participant_id).having(func.count() >= 3))
    participant = db.scalars(select(m.Participant).where(
        m.Participant.id.in_(three), m.Participant.role == m.Role.PEER_WORKER)
        .order_by(m.Participant.code)).first()
    assert participant is not None
    completed = db.scalars(
        select(m.Invitation).join(m.Wave)
        .where(m.Invitation.participant_id == participant.id,
               m.Invitation.status == m.InvitationStatus.COMPLETED)
        .order_by(m.Wave.index)).all()
    assert len(completed) == 3
    token = issue_token(db, completed[-1])
    db.commit()

    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(f"{live_server}/r/{token}/thanks")
    assert page.locator("h1").inner_text() == "Thank you"
    region = page.locator(".table-scroll")
    assert region.count() == 1
    assert region.evaluate("el => el.scrollWidth > el.clientWidth"), "the table must overflow at 320 px"
    result = Axe().run(page, options=AXE_OPTIONS)
    assert result.violations_count == 0, result.generate_report()
    # The keyboard reaches the region and can scroll it.
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('table-scroll')"):
            break
    else:
        pytest.fail("Tab never reached the scrolling table")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # Keyboard scrolling may be smooth (animated): give it up to 5 s to move.
    for _ in range(50):
        if region.evaluate("el => el.scrollLeft") > 0:
            break
        page.wait_for_timeout(100)
    assert region.evaluate("el => el.scrollLeft") > 0, "the arrow keys did not scroll the table"
    context.close()
