"""Personal API tokens on the staff account page: make (shown once), list, revoke; CSRF checked."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from tests import factories as f
from tests.conftest import StaffLogin

ACCOUNT = "/staff/account"
NEW = "/staff/account/api-tokens"
TOKEN = re.compile(r'<code id="api-token">(pp_[A-Za-z0-9_-]{43})</code>')


@pytest.fixture
def browser(make_app: Callable[..., Flask], db: Session) -> FlaskClient:
    """A client of an app that checks CSRF tokens, signed in as a researcher."""
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    account = f.UserFactory(role=m.StaffRole.RESEARCHER, email="r@example.org")
    db.commit()
    assert StaffLogin(client).login(account.email).status_code == 302
    return client


def _csrf(client: FlaskClient) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(ACCOUNT).get_data(as_text=True))
    assert found is not None
    return found.group(1)


def _rows(db: Session) -> list[m.ApiToken]:
    db.rollback()  # a new transaction sees what the requests committed
    return list(db.scalars(select(m.ApiToken).order_by(m.ApiToken.id)))


def test_make_see_once_use_and_revoke(browser: FlaskClient, db: Session) -> None:
    assert "You have no API tokens." in browser.get(ACCOUNT).get_data(as_text=True)

    # Without the form's CSRF token nothing is made.
    assert browser.post(NEW, data={"name": "laptop"}).status_code == 400
    assert _rows(db) == []

    made = browser.post(NEW, data={"name": "  R   on my laptop ", "csrf_token": _csrf(browser)})
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    found = TOKEN.search(made.get_data(as_text=True))
    assert found is not None
    token = found.group(1)
    (row,) = _rows(db)
    assert row.name == "R on my laptop" and row.last_used_at is None and row.revoked_at is None
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()

    page = browser.get(ACCOUNT).get_data(as_text=True)
    assert token not in page  # shown once only
    assert "R on my laptop" in page and "never" in page and "Revoke" in page

    used = browser.application.test_client(use_cookies=False).get(
        "/api/v1/studies", headers={"Authorization": f"Bearer {token}"})
    assert used.status_code == 200
    (row,) = _rows(db)
    assert row.last_used_at is not None
    page = browser.get(ACCOUNT).get_data(as_text=True)
    assert f"{row.last_used_at:%d %B %Y %H:%M} UTC" in page

    revoke = f"/staff/account/api-tokens/{row.id}/revoke"
    assert browser.post(revoke).status_code == 400  # no CSRF token: not revoked
    assert _rows(db)[0].revoked_at is None
    done = browser.post(revoke, data={"csrf_token": _csrf(browser)}, follow_redirects=True)
    assert "is revoked" in done.get_data(as_text=True)
    (row,) = _rows(db)
    assert row.revoked_at is not None
    assert "revoked " in browser.get(ACCOUNT).get_data(as_text=True)
    refused = browser.application.test_client(use_cookies=False).get(
        "/api/v1/studies", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    actions = [e.action for e in db.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id))]
    assert actions[-3:] == ["api_token.create", "api.token_use", "api_token.revoke"]


def test_a_name_is_needed_and_unique_among_live_tokens(browser: FlaskClient, db: Session) -> None:
    empty = browser.post(NEW, data={"name": "   ", "csrf_token": _csrf(browser)})
    assert empty.status_code == 400 and "Give the token a name" in empty.get_data(as_text=True)
    assert browser.post(NEW, data={"name": "cron", "csrf_token": _csrf(browser)}).status_code == 200
    again = browser.post(NEW, data={"name": "cron", "csrf_token": _csrf(browser)})
    assert again.status_code == 400 and "already have a token named" in again.get_data(as_text=True)
    assert TOKEN.search(again.get_data(as_text=True)) is None
    assert [r.name for r in _rows(db)] == ["cron"]


def test_nobody_revokes_another_persons_token(browser: FlaskClient, db: Session) -> None:
    from survey.services import api_tokens

    other = f.UserFactory(role=m.StaffRole.ADMIN)
    db.flush()
    row, _token = api_tokens.create(db, other, "theirs")
    db.commit()
    page = browser.post(f"/staff/account/api-tokens/{row.id}/revoke",
                        data={"csrf_token": _csrf(browser)}, follow_redirects=True)
    assert "You have no such token." in page.get_data(as_text=True)
    assert "theirs" not in browser.get(ACCOUNT).get_data(as_text=True)
    assert _rows(db)[0].revoked_at is None


def test_the_account_page_needs_a_signed_in_account(client: FlaskClient) -> None:
    assert client.post(NEW, data={"name": "x"}).status_code == 302
    assert client.post("/staff/account/api-tokens/1/revoke").status_code == 302
