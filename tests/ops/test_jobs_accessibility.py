"""The admin home's job status, with a failing job flagged, in a real browser at 320 px: no axe violation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from sqlalchemy.orm import Session

from survey.db import session_scope, utcnow
from survey.services import job_runs
from tests import factories as f
from tests.browser_fixtures import AXE_OPTIONS, browser_sign_in


@pytest.mark.browser
def test_job_status_has_no_axe_violations_at_320px(
    app: Flask, db: Session, live_server: str, browser: Any
) -> None:
    now = utcnow()
    with session_scope(app) as s:
        job_runs.record(s, "deliver", now - dt.timedelta(days=1), now - dt.timedelta(days=1))
        for minutes in (3, 2, 1):
            at = now - dt.timedelta(minutes=minutes)
            job_runs.record(s, "deliver", at, at, error=RuntimeError("mail server refused"))
    admin = f.UserFactory(admin=True)
    db.commit()
    context = browser.new_context(viewport={"width": 320, "height": 900})
    page = context.new_page()
    browser_sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/admin/")
    assert page.locator("text=Failing: 3 runs in a row").is_visible()
    result = Axe().run(page, options=AXE_OPTIONS)
    assert result.violations_count == 0, [v["id"] for v in result.response["violations"]]
    context.close()
