"""The administrator's pages in a real browser at 320 px: axe-core finds no WCAG 2.1 A/AA violation."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy.orm import Session

from survey import models as m
from tests import factories as f
from tests.admin.conftest import new_trust, new_user
from tests.browser_fixtures import AXE_OPTIONS, browser_sign_in

PATHS = ["/admin/trusts", "/admin/staff", "/admin/audit", "/admin/mail", "/admin/teams/NRT-CR/edit"]


def check(page: Any, what: str) -> None:
    result = Axe().run(page, options=AXE_OPTIONS)
    ids = [v["id"] for v in result.response["violations"]]
    assert result.violations_count == 0, f"{what}: {ids}"


@pytest.mark.browser
def test_admin_pages_have_no_axe_violations_at_320px(db: Session, live_server: str, browser: Any) -> None:
    trust = new_trust(code="NRT", name="North Trust")
    team = f.TeamFactory(organisation=trust, code="NRT-CR", name="Crisis team", service_type="crisis")
    f.ParticipantFactory(team=team)
    admin = new_user(admin=True, email="admin@example.org")
    new_user(role=m.StaffRole.TRUST_MONITOR, organisation=trust, email="monitor@example.org")
    db.commit()
    context = browser.new_context(viewport={"width": 320, "height": 900})
    page = context.new_page()
    browser_sign_in(page, live_server, admin.email)
    for path in PATHS:
        response = page.goto(live_server + path)
        assert response is not None and response.status == 200, path
        check(page, path)
    # The forms with their errors shown: a refused trust, team and account.
    page.goto(f"{live_server}/admin/trusts")
    page.fill("#trust-code", "bad code")
    page.click("text=Add trust")
    assert page.locator("#trust-code-error").is_visible()
    check(page, "trusts with an error")
    page.fill("#team-code", "NRT-CR")
    page.click("text=Add team")
    assert page.locator("#team-code-error").is_visible()
    check(page, "trusts with a team error")
    page.goto(f"{live_server}/admin/staff")
    page.fill("#email", "someone@example.org")
    page.select_option("#role", "trust_monitor")
    page.fill("#password", "short")
    page.fill("#password_again", "other")
    page.click("text=Add account")
    assert page.locator("#password_again-error").is_visible()
    check(page, "staff with errors")
    context.close()


@pytest.mark.browser
def test_participants_list_filters_and_timeline_have_no_axe_violations(
    db: Session, live_server: str, browser: Any
) -> None:
    study = f.StudyFactory(code="axe")
    first = f.WaveFactory(study=study, index=1, label="Baseline")
    f.WaveFactory(study=study, index=2, label="3 months", offset_days=90)
    person = f.ParticipantFactory(study=study, code="PAXE1")
    f.InvitationFactory(participant=person, wave=first, status=m.InvitationStatus.SENT)
    admin = new_user(admin=True, email="admin@example.org")
    db.commit()
    # One sign-in (a TOTP code signs in once), then each width on the same page.
    context = browser.new_context(viewport={"width": 320, "height": 900})
    page = context.new_page()
    browser_sign_in(page, live_server, admin.email)
    for width in (320, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        for path in ("/admin/studies/axe/participants",
                     "/admin/studies/axe/participants?wave=1&status=not-started",
                     "/admin/studies/axe/participants/PAXE1/edit"):
            response = page.goto(live_server + path)
            assert response is not None and response.status == 200, path
            check(page, f"{path} at {width} px")
    context.close()
