"""Security headers and cookies on the respondent pages; templates carry no inline code."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey.config import Config
from tests import factories as f
from tests.respondent.conftest import PersonalLink, link_in, make_link, post_form

PATHS = ["/page/1", "/withdraw", ""]


@pytest.mark.parametrize("path", [*PATHS, "/thanks-unknown"])
def test_security_headers(client: FlaskClient, link: PersonalLink, path: str) -> None:
    target = link.url + path if path != "/thanks-unknown" else "/r/nosuchtoken/thanks"
    headers = client.get(target).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"


def test_pages_are_not_cached_and_have_no_inline_code(db: Session, client: FlaskClient) -> None:
    fresh = make_link(db, participant=f.ParticipantFactory())
    pages = [f"{fresh.url}/consent", f"{fresh.url}/withdraw", "/r/nosuchtoken"]
    post_form(client, f"{fresh.url}/consent", {"decision": "yes"})
    pages.append(f"{fresh.url}/page/1")
    for path in pages:
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store", path
        # Scripts only as files of the app's own (static/offline.js on survey pages), never inline.
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
        assert html.count("<script") == len(scripts), path
        assert all(re.search(r'src="/static/[\w.-]+\.js"', attrs) and not body.strip()
                   for attrs, body in scripts), path
        assert "style=" not in html and " on" + "click=" not in html, path


def test_session_cookie_is_httponly_and_samesite(csrf_app_client: FlaskClient, csrf_link: PersonalLink) -> None:
    cookie = csrf_app_client.get(f"{csrf_link.url}/page/1").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # served over plain HTTP in this test


def test_cookie_is_secure_when_served_over_https(make_app: Any) -> None:
    assert Config({"BASE_URL": "https://survey.example.org"}).SESSION_COOKIE_SECURE is True
    app = make_app(WTF_CSRF_ENABLED=True, BASE_URL="https://survey.example.org", SESSION_COOKIE_SECURE=True)
    link = link_in(app)
    cookie = app.test_client().get(f"{link.url}/page/1", base_url="https://survey.example.org")
    assert "Secure" in cookie.headers["Set-Cookie"]


@pytest.fixture
def csrf_app(make_app: Any) -> Any:
    """An app with CSRF on (so respondent pages set a session cookie)."""
    return make_app(WTF_CSRF_ENABLED=True)


@pytest.fixture
def csrf_app_client(csrf_app: Any) -> FlaskClient:
    """A client of that app."""
    return csrf_app.test_client()


@pytest.fixture
def csrf_link(csrf_app: Any) -> PersonalLink:
    """An open link in that app's database."""
    return link_in(csrf_app)


@pytest.mark.parametrize("url", ["/api/v1/studies/demo/model?scale=%00", "/r/abc%00def", "/dashboard/?study=%00"])
def test_a_nul_character_in_the_address_is_a_plain_400(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert b"Traceback" not in response.data
