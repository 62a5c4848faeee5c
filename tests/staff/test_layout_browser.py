"""Every staff page in Chromium at 1280 and 390 px: axe finds no WCAG 2.1 A/AA violation, each
radio and checkbox shares a line with its label, the navigation is one row at 1280 px, and no
page is wider than a 390 px phone (tables scroll inside their own region).

The list of pages is checked against the app's routes, so a new staff page is tested or named
here with the reason it is not.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from survey import models as m
from survey.services.demo import DEMO_PASSWORD, load_demo
from tests.browser_fixtures import assert_no_axe_violations, browser_sign_in

STAFF_BLUEPRINTS = ("front", "auth", "staff", "dashboard", "research", "admin")
# GET routes that are not HTML pages, or need a sign-in half done (tests/survey/test_auth_accessibility.py).
NOT_PAGES = {
    "staff.home_redirect": "a redirect to /staff/",
    "dashboard.trust_csv": "a CSV download", "dashboard.team_csv": "a CSV download",
    "research.model_json": "JSON", "research.model_plot": "an image", "research.export": "a zip",
    "admin.template": "a CSV download",
    "auth.login": "checked before signing in", "auth.second_factor": "half-signed-in: auth tests",
    "auth.enrol": "half-signed-in: auth tests",
}

# Where every box of a radio or checkbox and its label sits, and the rows of the navigation.
GEOMETRY = """() => {
  const box = e => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
  const inputs = [...document.querySelectorAll('main input[type=radio], main input[type=checkbox]')].map(input => {
    const label = input.id ? document.querySelector(`label[for="${input.id}"]`) : null;
    const range = document.createRange();
    if (label) { range.selectNodeContents(label); }
    const first = label ? range.getClientRects()[0] : null;  // the label's first line of text
    return {id: input.id, input: box(input), line: first ? {top: first.top, bottom: first.bottom, left: first.left} : null};
  });
  const items = [...document.querySelectorAll('.site-header nav li')].map(box);
  const brand = document.querySelector('.site-header .brand');
  return {inputs, items, brand: brand ? box(brand) : null, width: document.documentElement.scrollWidth};
}"""


def _staff_paths(db: Session) -> list[str]:
    """The staff pages an administrator can open on the demo."""
    admin = db.scalars(select(m.User).where(m.User.email == "admin@example.org")).one()
    person = db.scalars(select(m.Participant.code).order_by(m.Participant.code)).first()
    return [
        "/", "/staff/", "/staff/account", "/dashboard/", "/dashboard/NRT",
        "/dashboard/NRT/teams/NRT-CMHT", "/research/",
        "/research/demo/model?scale=equality&by=role_group&method=REML",
        "/research/demo/reliability", "/research/demo/change", "/research/demo/attrition",
        "/research/demo/invariance", "/research/demo/free-text",
        "/admin/", "/admin/studies/demo/participants", "/admin/studies/demo/participants?page=2",
        "/admin/studies/demo/participants/import", "/admin/studies/demo/participants/new",
        f"/admin/studies/demo/participants/{person}/edit", "/admin/trusts",
        "/admin/teams/NRT-CMHT/edit", "/admin/staff", f"/admin/staff/{admin.id}/edit",
        "/admin/mail", "/admin/outbox", "/admin/audit",
    ]


def test_every_staff_page_is_in_the_list(app: Flask, db: Session) -> None:
    load_demo(db, today=dt.date(2026, 11, 26))
    db.commit()
    adapter = app.url_map.bind("localhost")
    covered = set()
    for path in _staff_paths(db):
        try:
            endpoint, _ = adapter.match(path.split("?")[0], method="GET")
        except HTTPException as exc:  # pragma: no cover - a wrong path in the list
            pytest.fail(f"{path} matches no route: {exc}")
        covered.add(endpoint)
    pages = {rule.endpoint for rule in app.url_map.iter_rules()
             if "GET" in (rule.methods or ()) and rule.endpoint.split(".")[0] in STAFF_BLUEPRINTS}
    assert pages - covered - set(NOT_PAGES) == set(), "staff pages missing from this test"
    assert set(NOT_PAGES) <= pages, "NOT_PAGES names a route that is gone"


def _check_layout(page: Any, path: str, width: int) -> int:
    """Assert the geometry rules on the open page; return how many choices it has."""
    found = page.evaluate(GEOMETRY)
    for choice in found["inputs"]:
        line, box = choice["line"], choice["input"]
        assert line is not None, f"{path} at {width}px: #{choice['id']} has no label"
        # Beside: the label starts right of the input; on its line: their boxes overlap vertically.
        assert line["left"] >= box["right"], f"{path} at {width}px: #{choice['id']} label not beside it"
        assert line["top"] < box["bottom"] and box["top"] < line["bottom"], (
            f"{path} at {width}px: #{choice['id']} and its label are on different lines")
    items = found["items"]
    if width >= 1280 and items:
        tops = {round(item["top"]) for item in items}
        assert len(tops) == 1, f"{path}: the navigation wraps at {width}px onto rows {sorted(tops)}"
        assert min(item["left"] for item in items) > found["brand"]["right"], f"{path}: nav under brand"
    assert found["width"] <= width, f"{path} is {found['width']}px wide at {width}px"
    return len(found["inputs"])


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_staff_pages_layout_and_axe(db: Session, live_server: str, browser: Any, width: int,
        demo_mode: Flask) -> None:
    load_demo(db, today=dt.date(2026, 11, 26))
    db.commit()
    paths = _staff_paths(db)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(60_000)  # the growth model is fitted on the way
    page = context.new_page()
    page.goto(f"{live_server}/staff/login")
    _check_layout(page, "/staff/login", width)
    assert_no_axe_violations(page, f"/staff/login at {width}px")
    browser_sign_in(page, live_server, "admin@example.org", DEMO_PASSWORD, code=False)
    choices = {}
    for path in paths:
        response = page.goto(live_server + path)
        assert response is not None and response.status == 200, path
        choices[path] = _check_layout(page, path, width)
        assert_no_axe_violations(page, f"{path} at {width}px")
    # The research forms have radios and checkboxes, so the line check above had work to do.
    assert choices["/research/demo/model?scale=equality&by=role_group&method=REML"] == 6
    assert choices["/research/demo/invariance"] == 4 and choices["/research/"] >= 1
    context.close()
