"""Staff pages in a real browser: axe-core finds no WCAG 2.1 A/AA violation, on a phone too."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy.orm import Session

from survey.services.demo import DEMO_PASSWORD, load_demo
from tests.browser_fixtures import AXE_OPTIONS

PAGES = {
    "trust_monitor": ["/staff/", "/dashboard/NRT"],
    "researcher": ["/staff/", "/dashboard/", "/dashboard/SHP", "/research/",
                   "/research/demo/model?scale=equality&by=role_group&method=REML",
                   "/research/demo/reliability"],
}


@pytest.mark.browser
@pytest.mark.parametrize("width", [320, 1024])
def test_staff_pages_have_no_axe_violations(db: Session, live_server: str, browser: Any, width: int) -> None:
    load_demo(db, today=dt.date(2026, 11, 26))
    db.commit()
    logins = {"trust_monitor": "monitor.nrt@example.org", "researcher": "researcher@example.org"}
    for role, paths in PAGES.items():
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(f"{live_server}/staff/login")
        assert Axe().run(page, options=AXE_OPTIONS).violations_count == 0
        page.fill("#email", logins[role])
        page.fill("#password", DEMO_PASSWORD)
        page.press("#password", "Enter")  # the keyboard alone signs in
        page.wait_for_url(f"{live_server}/staff/")
        for path in paths:
            response = page.goto(live_server + path)
            assert response is not None and response.status == 200, path
            result = Axe().run(page, options=AXE_OPTIONS)
            ids = [v["id"] for v in result.response["violations"]]
            assert result.violations_count == 0, f"{role} {path} at {width}px: {ids}"
        context.close()
