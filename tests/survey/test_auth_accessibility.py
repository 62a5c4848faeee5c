"""The sign-in pages in a real browser at 320 px: axe-core finds no WCAG 2.1 A/AA violation."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy.orm import Session

from tests import factories as f
from tests.browser_fixtures import AXE_OPTIONS, password_step
from tests.conftest import StaffLogin


def check(page: Any, what: str) -> None:
    result = Axe().run(page, options=AXE_OPTIONS)
    ids = [v["id"] for v in result.response["violations"]]
    assert result.violations_count == 0, f"{what}: {ids}"


@pytest.mark.browser
def test_sign_in_pages_have_no_axe_violations_at_320px(db: Session, live_server: str, browser: Any) -> None:
    f.UserFactory(email="admin@example.org", admin=True, no_second_factor=True)
    db.commit()
    context = browser.new_context(viewport={"width": 320, "height": 900})
    page = context.new_page()
    password_step(page, live_server, "admin@example.org")
    page.wait_for_url(f"{live_server}/staff/account/two-factor")
    assert page.locator("svg[role=img]").is_visible()
    check(page, "enrolment page")
    page.fill("#code", "000000")
    page.press("#code", "Enter")
    assert page.locator("#code-error").is_visible()
    check(page, "enrolment page with an error")
    secret = page.inner_text("#totp-secret").replace(" ", "")
    page.fill("#code", StaffLogin.code_now(secret))
    page.press("#code", "Enter")  # the keyboard alone sets it up
    assert page.locator(".recovery-codes li").count() == 10
    check(page, "recovery codes page")
    page.goto(f"{live_server}/staff/account")
    check(page, "account page")
    page.fill("#name", "   ")
    page.press("#name", "Enter")
    assert page.locator("#name-error").is_visible()
    check(page, "account page with a token name error")
    page.fill("#name", "R on my laptop")
    page.press("#name", "Enter")
    assert page.inner_text("#api-token").startswith("pp_")
    check(page, "new API token page")
    page.click("text=I have copied the token")
    assert page.locator("text=R on my laptop").is_visible()
    check(page, "account page with a token")
    page.click("text=Sign out")
    page.wait_for_url(f"{live_server}/staff/login")
    password_step(page, live_server, "admin@example.org")
    page.wait_for_url(f"{live_server}/staff/login/code")
    check(page, "second-factor page")
    page.fill("#code", "abc")
    page.press("#code", "Enter")
    assert page.locator("#code-error").is_visible()
    check(page, "second-factor page with an error")
    context.close()
