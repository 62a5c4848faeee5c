"""Staff sessions end on the server; demo accounts only in demo mode; codes work once under concurrency.

Issue 19, items 2, 4 and 6: a cookie copied before sign-out (or before a reset or deactivation)
is refused afterwards, by the pages and by the API; a demo account's published password
opens nothing outside demo mode; one TOTP code or recovery code signs in one of several
concurrent attempts; sign-in checks one password hash whatever the account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import get_engine, get_sessionmaker
from survey.models.staff import RecoveryCode
from survey.services import api_tokens, sign_in, staff
from tests import factories as f
from tests.conftest import StaffLogin

API = "/api/v1/studies"


def _cookie(client: FlaskClient) -> str:
    """The value of the client's session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def _with_cookie(app: Flask, value: str) -> FlaskClient:
    """A fresh client that presents a copied session cookie."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def _refused_page(client: FlaskClient, path: str) -> bool:
    """Whether a staff page sends this client to the sign-in page."""
    response = client.get(path)
    return response.status_code == 302 and response.headers["Location"].startswith("/staff/login")


def _sessions(db: Session) -> list[m.StaffSession]:
    db.rollback()
    return list(db.scalars(select(m.StaffSession).order_by(m.StaffSession.id)))


def test_a_cookie_copied_before_sign_out_is_refused_by_pages_and_the_api(app: Flask, db: Session) -> None:
    monitor = f.UserFactory(monitor=True)
    researcher = f.UserFactory()
    db.commit()
    assert monitor.organisation is not None
    for account, page in ((monitor, f"/dashboard/{monitor.organisation.code}"), (researcher, "/research/")):
        client = app.test_client()
        StaffLogin(client).login(account.email)
        copied = _cookie(client)
        assert _with_cookie(app, copied).get(page).status_code == 200
        assert _with_cookie(app, copied).get(API).status_code == 200
        StaffLogin(client).logout()
        assert _refused_page(_with_cookie(app, copied), page)
        refused = _with_cookie(app, copied).get(API)
        assert refused.status_code == 401 and refused.is_json
        assert _refused_page(client, page)
    rows = _sessions(db)
    assert [(row.user_id, row.ended_reason) for row in rows] == [
        (monitor.id, "signed-out"), (researcher.id, "signed-out")]
    assert all(row.ended_at is not None for row in rows)


def test_the_cookie_holds_a_random_session_token_stored_only_hashed(app: Flask, db: Session) -> None:
    account = f.UserFactory(monitor=True)
    db.commit()
    client = app.test_client()
    StaffLogin(client).login(account.email)
    content = app.session_interface.get_signing_serializer(app).loads(_cookie(client))  # type: ignore[attr-defined]
    token = content["_user_id"]
    assert token not in {account.session_token, str(account.id)} and len(token) >= 43
    row = _sessions(db)[0]
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.user_id == account.id and row.ended_at is None


class _Clock:
    """The sign-in clock, moved by the test."""

    def __init__(self) -> None:
        self.at = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.at


def test_an_idle_session_ends_on_the_server_for_every_copy_of_its_cookie(
        make_app: Callable[..., Flask], db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    monkeypatch.setattr(sign_in, "now", clock)
    app = make_app(SESSION_IDLE_MINUTES=30)
    account = f.UserFactory(monitor=True)
    db.commit()
    client = app.test_client()
    StaffLogin(client).login(account.email)
    copied = _cookie(client)
    clock.at += dt.timedelta(minutes=20)
    assert client.get("/staff/").status_code == 200  # seen on the server: 30 more minutes
    clock.at += dt.timedelta(minutes=25)
    assert _with_cookie(app, copied).get("/staff/").status_code == 200  # the copy is the same session
    clock.at += dt.timedelta(minutes=31)
    assert _refused_page(_with_cookie(app, copied), "/staff/")
    assert [row.ended_reason for row in _sessions(db)] == ["idle"]
    assert _refused_page(client, "/staff/")


def _token_works(app: Flask, token: str) -> int:
    return app.test_client().get(API, headers={"Authorization": f"Bearer {token}"}).status_code


def test_deactivation_ends_every_session_and_revokes_the_api_tokens_for_good(app: Flask, db: Session) -> None:
    admin = f.UserFactory(admin=True)
    account = f.UserFactory(monitor=True)
    db.flush()
    _row, token = api_tokens.create(db, account, "script")
    db.commit()
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        StaffLogin(client).login(account.email)
    copied = _cookie(first)
    assert _token_works(app, token) == 200
    assert staff.set_active(db, admin, account, False)
    db.commit()
    assert staff.set_active(db, admin, account, True)
    db.commit()
    # Reactivated, the account signs in again; nothing from before works.
    for client in (first, second, _with_cookie(app, copied)):
        assert _refused_page(client, "/staff/")
    assert _token_works(app, token) == 401
    assert [row.ended_reason for row in _sessions(db)] == ["account", "account"]
    assert db.scalars(select(m.ApiToken.revoked_at)).one() is not None
    assert "api_token.revoke_all" in db.scalars(select(m.AuditEvent.action)).all()
    StaffLogin(first).login(account.email)
    assert first.get("/staff/").status_code == 200


def test_a_password_reset_ends_every_session_and_revokes_the_api_tokens(app: Flask, db: Session) -> None:
    account = f.UserFactory(monitor=True)
    db.flush()
    _row, token = api_tokens.create(db, account, "script")
    db.commit()
    client = app.test_client()
    StaffLogin(client).login(account.email)
    copied = _cookie(client)
    assert account.organisation is not None
    result = app.test_cli_runner().invoke(args=[
        "create-admin", "--email", account.email, "--password", "a brand new password",
        "--role", "trust_monitor", "--trust", account.organisation.code])
    assert result.exit_code == 0, result.output
    assert _refused_page(_with_cookie(app, copied), "/staff/")
    assert _with_cookie(app, copied).get(API).status_code == 401
    assert _token_works(app, token) == 401


def test_a_demo_account_opens_nothing_outside_demo_mode(app: Flask, client: FlaskClient, db: Session) -> None:
    account = f.UserFactory(admin=True, demo=True)
    db.flush()
    _row, token = api_tokens.create(db, account, "script")
    db.commit()
    refused = client.post("/staff/login", data={"email": account.email, "password": f.DEFAULT_PASSWORD})
    assert refused.status_code == 200
    assert "This is a demo account: it signs in only while PeerPulse runs in demo mode" in (
        refused.get_data(as_text=True))
    assert _refused_page(client, "/admin/")
    assert _token_works(app, token) == 401
    db.rollback()
    event = db.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "login.failed")).one()
    assert event.detail["reason"] == "demo account"
    # In demo mode the published password alone signs it in, and its token works ...
    app.config["DEMO"] = True
    signed_in = client.post("/staff/login", data={"email": account.email, "password": f.DEFAULT_PASSWORD})
    assert signed_in.headers["Location"] == "/staff/"
    assert client.get("/admin/").status_code == 200
    assert _token_works(app, token) == 200
    # ... until the app runs without it: that session ends too.
    app.config["DEMO"] = False
    assert _refused_page(client, "/admin/")
    assert [row.ended_reason for row in _sessions(db)] == ["account"]


def test_every_sign_in_checks_one_password_hash(client: FlaskClient, db: Session,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    active = f.UserFactory(monitor=True)
    disabled = f.UserFactory(monitor=True, active=False)
    demo = f.UserFactory(admin=True, demo=True)
    db.commit()
    checked: list[str] = []
    real = sign_in.check_password_hash

    def spy(stored: str, password: str) -> bool:
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr(sign_in, "check_password_hash", spy)
    for email, password, expected in [
        (active.email, f.DEFAULT_PASSWORD, active.password_hash),
        (active.email, "a wrong password", active.password_hash),
        (disabled.email, f.DEFAULT_PASSWORD, disabled.password_hash),
        (demo.email, f.DEFAULT_PASSWORD, demo.password_hash),
        ("nobody@example.org", f.DEFAULT_PASSWORD, None),
    ]:
        checked.clear()
        client.post("/staff/login", data={"email": email, "password": password})
        assert len(checked) == 1, email
        if expected is not None:
            assert checked[0] == expected, email
        else:  # a hash made the way real ones are (same method and cost), of no password
            assert checked[0].split("$")[0] == active.password_hash.split("$")[0]
            assert not real(checked[0], f.DEFAULT_PASSWORD)
        client.post("/staff/logout")


def _race(app: Flask, account_id: int, code: str, attempts: int = 4) -> list[str | None]:
    """Check one code in several threads at once, each in its own transaction; their results."""
    postgres = get_engine(app).dialect.name == "postgresql"
    barrier = threading.Barrier(attempts, timeout=60)
    results: list[str | None] = [None] * attempts
    errors: list[BaseException] = []

    def attempt(i: int) -> None:
        try:
            with get_sessionmaker(app, writing=True)() as db:
                if not postgres:
                    barrier.wait()  # SQLite: each takes the write lock at its first statement
                user = db.get(m.User, account_id)
                assert user is not None
                _loaded = (user.totp_last_step, [code.used_at for code in user.recovery_codes])
                if postgres:
                    barrier.wait()  # every attempt has read the unused code before any claims it
                results[i] = sign_in.check_second_factor(db, user, code)
                db.commit()
        except BaseException as exc:  # reported below, with the thread's result
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_one_totp_code_signs_in_one_of_several_concurrent_attempts(app: Flask, db: Session) -> None:
    account = f.UserFactory(admin=True)
    db.commit()
    results = _race(app, account.id, pyotp.TOTP(f.TOTP_SECRET).now())
    assert results.count("totp") == 1 and results.count(None) == len(results) - 1
    db.rollback()
    failures = db.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "login.2fa_failed")).all()
    assert len(failures) == len(results) - 1


def test_one_recovery_code_signs_in_one_of_several_concurrent_attempts(app: Flask, db: Session) -> None:
    account = f.UserFactory(admin=True)
    db.flush()
    codes = sign_in.renew_recovery_codes(db, account)
    db.commit()
    results = _race(app, account.id, codes[0])
    assert results.count("recovery") == 1 and results.count(None) == len(results) - 1
    db.rollback()
    used = db.scalars(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None))).all()
    assert len(used) == 1
