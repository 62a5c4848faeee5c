"""Staff sign-in and access checks."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import AuditEvent
from tests import factories as f
from tests.conftest import StaffLogin


def test_staff_pages_need_sign_in(client: FlaskClient) -> None:
    response = client.get("/staff/")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_sign_in_with_correct_password_and_audit(db: Session, client: FlaskClient, auth: StaffLogin) -> None:
    f.UserFactory(email="lead@example.org", admin=True)
    db.commit()
    response = auth.login("LEAD@example.org")
    assert response.status_code == 302
    home = client.get("/staff/")
    assert home.status_code == 200
    assert b"lead@example.org" in home.data
    assert db.scalars(select(AuditEvent.action)).all() == ["login"]


def test_wrong_password_is_refused_without_saying_which_part(db: Session, client: FlaskClient, auth: StaffLogin) -> None:
    f.UserFactory(email="lead@example.org")
    db.commit()
    response = auth.login("lead@example.org", "wrong password")
    assert response.status_code == 200
    assert b"do not match an account" in response.data
    assert client.get("/staff/").status_code == 302


def test_inactive_account_cannot_sign_in(db: Session, client: FlaskClient, auth: StaffLogin) -> None:
    f.UserFactory(email="gone@example.org", active=False)
    db.commit()
    auth.login("gone@example.org")
    assert client.get("/staff/").status_code == 302


def test_monitor_sees_only_their_own_trust(db: Session, client: FlaskClient, auth: StaffLogin) -> None:
    monitor = f.UserFactory(email="m@example.org", monitor=True)
    f.OrganisationFactory(name="Other Trust Far Away")
    db.commit()
    auth.login("m@example.org")
    page = client.get("/staff/").get_data(as_text=True)
    assert monitor.organisation.name in page
    assert "Other Trust Far Away" not in page


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/x"])
def test_sign_in_never_redirects_off_site(db: Session, client: FlaskClient, target: str) -> None:
    f.UserFactory(email="lead@example.org")
    db.commit()
    response = client.post(f"/staff/login?next={target}",
                           data={"email": "lead@example.org", "password": f.DEFAULT_PASSWORD})
    assert response.headers["Location"] == "/staff/login/code"
    response = StaffLogin(client).send_code(StaffLogin(client).next_code("lead@example.org"))
    assert response.headers["Location"] == "/staff/"


def test_sign_in_goes_on_to_the_page_asked_for(db: Session, client: FlaskClient) -> None:
    f.UserFactory(email="lead@example.org")
    db.commit()
    client.post("/staff/login?next=/research/", data={"email": "lead@example.org", "password": f.DEFAULT_PASSWORD})
    response = StaffLogin(client).send_code(StaffLogin(client).next_code("lead@example.org"))
    assert response.headers["Location"] == "/research/"


def test_login_form_needs_csrf_when_enabled(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/staff/login", data={"email": "a@example.org", "password": "x"})
    assert response.status_code == 400
    assert b"Nothing was saved" in response.data


def test_security_headers_on_every_page(client: FlaskClient) -> None:
    response = client.get("/staff/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_page_is_a_plain_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"Page not found" in response.data
