"""Browser fixtures shared by every test package: a live server and a headless Chromium.

A missing /usr/bin/chromium makes the browser tests fail, never skip.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.factories import DEFAULT_PASSWORD, TOTP_SECRET

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def assert_no_axe_violations(page: Any, what: str) -> None:
    """axe-core (WCAG 2.1 A and AA rules) finds nothing on the page; `what` names it on failure."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options=AXE_OPTIONS)
    ids = [v["id"] for v in result.response["violations"]]
    assert result.violations_count == 0, f"{what}: {ids}"


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over HTTP on a free local port, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session; a missing /usr/bin/chromium fails the tests."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser page (its own cookies), phone-sized."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def password_step(page: Any, live_server: str, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Type an email and password on the sign-in page and press Enter (the keyboard alone)."""
    page.goto(f"{live_server}/staff/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.press("#password", "Enter")


def browser_sign_in(
    page: Any, live_server: str, email: str, password: str = DEFAULT_PASSWORD, *, code: bool = True
) -> None:
    """Sign in by keyboard; with `code`, also type the authenticator's code (the factories' secret)."""
    password_step(page, live_server, email, password)
    if code:
        page.wait_for_url(f"{live_server}/staff/login/code")
        page.fill("#code", pyotp.TOTP(TOTP_SECRET).now())
        page.press("#code", "Enter")
    page.wait_for_url(f"{live_server}/staff/")
