"""Staff pages in a real browser: axe-core finds no WCAG 2.1 A/AA violation, on a phone too,
and the dashboard prints cleanly (print media: no navigation, still no violation)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from survey.services.demo import DEMO_PASSWORD, load_demo
from tests.browser_fixtures import assert_no_axe_violations, browser_sign_in

PAGES = {
    "trust_monitor": ["/staff/", "/dashboard/NRT", "/dashboard/NRT/teams/NRT-CMHT"],
    "researcher": ["/staff/", "/dashboard/", "/dashboard/SHP", "/research/",
                   "/research/demo/model?scale=equality&by=role_group&method=REML",
                   "/research/demo/reliability", "/research/demo/free-text"],
}
DASHBOARDS = ["/dashboard/NRT", "/dashboard/NRT/teams/NRT-WARD"]
LOGINS = {"trust_monitor": "monitor.nrt@example.org", "researcher": "researcher@example.org"}


def _signed_in(browser: Any, live_server: str, role: str, width: int) -> tuple[Any, Any]:
    """A browser context and page signed in (by keyboard) as this demo role."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/staff/login")
    assert_no_axe_violations(page, "/staff/login")
    browser_sign_in(page, live_server, LOGINS[role], DEMO_PASSWORD, code=False)  # demo: password only
    return context, page


@pytest.mark.browser
@pytest.mark.parametrize("width", [320, 1024])
def test_staff_pages_have_no_axe_violations(db: Session, live_server: str, browser: Any, width: int,
        demo_mode: Flask) -> None:
    load_demo(db, today=dt.date(2026, 11, 26))
    db.commit()
    for role, paths in PAGES.items():
        context, page = _signed_in(browser, live_server, role, width)
        for path in paths:
            response = page.goto(live_server + path)
            assert response is not None and response.status == 200, path
            assert_no_axe_violations(page, f"{role} {path} at {width}px")
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [320, 1024])
def test_dashboard_prints_cleanly(db: Session, live_server: str, browser: Any, width: int,
        demo_mode: Flask) -> None:
    load_demo(db, today=dt.date(2026, 11, 26))
    db.commit()
    context, page = _signed_in(browser, live_server, "trust_monitor", width)
    page.emulate_media(media="print")
    for path in DASHBOARDS:
        response = page.goto(live_server + path)
        assert response is not None and response.status == 200, path
        assert_no_axe_violations(page, f"{path} in print at {width}px")
        hidden = page.evaluate("""() => ['nav', '.skip-link', '.site-footer', '.report-links']
            .map(s => document.querySelector(s)).filter(Boolean)
            .map(e => getComputedStyle(e).display)""")
        assert hidden and set(hidden) == {"none"}, hidden
        text = page.inner_text("main")
        # The board report carries its date, the suppression rule and the method note.
        assert "Figures up to " in text and ", published on " in text
        assert "fewer than 5 people" in text and "How these figures are made" in text
        assert page.evaluate("getComputedStyle(document.querySelector('thead')).display") == "table-header-group"
    # The trust's report has the comparator and what changed most.
    page.goto(live_server + "/dashboard/NRT")
    text = page.inner_text("main")
    assert "What changed most" in text and "Compared with other trusts" in text
    pdf_context = browser.new_context()
    pdf_page = pdf_context.new_page()
    pdf_page.context.add_cookies(context.cookies())
    pdf_page.goto(live_server + "/dashboard/NRT")
    pdf = pdf_page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
    pdf_context.close()
    context.close()
