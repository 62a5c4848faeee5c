"""Staff sign-in that resists stolen passwords: second factor, revocable and expiring sessions, audit."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.models.staff import RecoveryCode
from survey.services import sign_in
from survey.services.demo import DEMO_PASSWORD, load_demo
from tests import factories as f
from tests.conftest import StaffLogin

ENROL = "/staff/account/two-factor"
CODE_STEP = "/staff/login/code"


class Clock:
    """The sign-in clock, moved by the test (no sleeping)."""

    def __init__(self) -> None:
        self.at = dt.datetime(2026, 11, 26, 9, 0, 0, tzinfo=dt.UTC)  # the start of a TOTP step

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)

    def code(self, secret: str = f.TOTP_SECRET) -> str:
        """The code an authenticator app shows at this moment."""
        return pyotp.TOTP(secret).at(self.at)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Control the time that sign-in and session expiry see."""
    fake = Clock()
    monkeypatch.setattr(sign_in, "now", fake)
    return fake


def user(**traits: Any) -> m.User:
    """A staff account from the factory."""
    return f.UserFactory(**traits)  # type: ignore[no-any-return]


def password_step(client: FlaskClient, email: str, password: str = f.DEFAULT_PASSWORD) -> Any:
    """Post the password form."""
    return client.post("/staff/login", data={"email": email, "password": password})


def actions(db: Session) -> list[str]:
    """The audit log's actions, oldest first (a fresh read)."""
    db.rollback()
    return list(db.scalars(select(m.AuditEvent.action).order_by(m.AuditEvent.id)))


def recovery_codes(page: str) -> list[str]:
    """The recovery codes shown on a page."""
    return re.findall(r"<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>", page)


def sign_in_at(client: FlaskClient, clock: Clock, email: str, password: str = f.DEFAULT_PASSWORD) -> Any:
    """Both steps, with the next time step's code (each code is accepted once)."""
    clock.advance(seconds=30)
    assert password_step(client, email, password).headers["Location"] == CODE_STEP
    return client.post(CODE_STEP, data={"code": clock.code()})


def test_password_reset_signs_out_every_other_session(app: Flask, db: Session, runner: FlaskCliRunner,
                                                      clock: Clock) -> None:
    account = user(email="r@example.org")
    db.commit()
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        assert sign_in_at(client, clock, account.email).headers["Location"] == "/staff/"
        assert client.get("/staff/").status_code == 200
    result = runner.invoke(args=["create-admin", "--email", account.email, "--password", "a brand new password",
                                 "--role", "researcher"])
    assert result.exit_code == 0, result.output
    for client in (first, second):
        response = client.get("/staff/")
        assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login")
        assert "Your session has ended" in client.get("/staff/login").get_data(as_text=True)
    # The new password (and the second factor, which a password reset keeps) let the person in again.
    assert sign_in_at(first, clock, account.email, "a brand new password").headers["Location"] == "/staff/"
    assert first.get("/staff/").status_code == 200


def test_sign_out_ends_only_this_session(app: Flask, db: Session) -> None:
    account = user(monitor=True)
    db.commit()
    token = account.session_token
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        StaffLogin(client).login(account.email)
    StaffLogin(first).logout()
    assert first.get("/staff/").status_code == 302
    assert second.get("/staff/").status_code == 200
    db.refresh(account)
    assert account.session_token == token


def test_second_factor_reset_signs_out_and_the_account_enrols_again(
        client: FlaskClient, db: Session, auth: StaffLogin, runner: FlaskCliRunner) -> None:
    account = user(email="lost.phone@example.org", admin=True)
    db.commit()
    auth.login(account.email)
    assert client.get("/admin/").status_code == 200
    result = runner.invoke(args=["create-admin", "--email", "Lost.Phone@example.org", "--reset-2fa"])
    assert result.exit_code == 0, result.output
    assert "Reset the second factor of lost.phone@example.org" in result.output
    assert client.get("/admin/").status_code == 302
    db.rollback()
    db.refresh(account)
    assert account.totp_secret is None and not account.has_second_factor
    assert account.role == m.StaffRole.ADMIN and account.check_password(f.DEFAULT_PASSWORD)
    event = db.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "user.2fa_reset")).one()
    assert (event.actor, event.target_id) == ("cli", str(account.id))
    assert password_step(client, account.email).headers["Location"] == ENROL


def test_reset_2fa_of_an_unknown_account_is_a_clear_error(runner: FlaskCliRunner, db: Session) -> None:
    result = runner.invoke(args=["create-admin", "--email", "nobody@example.org", "--reset-2fa"])
    assert result.exit_code == 1
    assert "--email: There is no account for nobody@example.org." in result.output
    assert actions(db) == []


def test_a_totp_code_cannot_be_replayed(client: FlaskClient, db: Session, clock: Clock) -> None:
    account = user()
    db.commit()
    code = clock.code()
    password_step(client, account.email)
    assert client.post(CODE_STEP, data={"code": code}).headers["Location"] == "/staff/"
    StaffLogin(client).logout()
    clock.advance(seconds=10)  # the same 30-second step: the app would still show this code
    assert password_step(client, account.email).headers["Location"] == CODE_STEP
    refused = client.post(CODE_STEP, data={"code": code})
    assert refused.status_code == 200
    assert "already used" in refused.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302
    clock.advance(seconds=30)  # the next step's code works
    assert client.post(CODE_STEP, data={"code": clock.code()}).headers["Location"] == "/staff/"
    assert actions(db) == ["login", "logout", "login.2fa_failed", "login"]


def test_codes_from_far_away_steps_are_refused(client: FlaskClient, db: Session, clock: Clock) -> None:
    account = user()
    db.commit()
    password_step(client, account.email)
    old = clock.code()
    clock.advance(minutes=2)
    assert client.post(CODE_STEP, data={"code": old}).status_code == 200
    assert client.get("/staff/").status_code == 302


def test_admin_without_second_factor_reaches_nothing_until_enrolled(
        client: FlaskClient, db: Session, auth: StaffLogin) -> None:
    account = user(email="new.admin@example.org", admin=True, no_second_factor=True)
    db.commit()
    assert auth.login(account.email).headers["Location"] == ENROL
    for path in ["/staff/", "/admin/", "/admin/staff", "/research/", "/dashboard/"]:
        assert client.get(path).headers["Location"] == ENROL, path
    assert client.get("/api/v1/studies").status_code == 401
    page = client.get(ENROL).get_data(as_text=True)
    db.rollback()
    db.refresh(account)
    assert account.totp_secret is not None and not account.has_second_factor
    # The QR code is inline SVG within the CSP (no style, no script); the key is typed out in groups.
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert 'role="img"' in svg and "style=" not in svg and "<script" not in page
    shown = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', page)
    assert shown is not None and shown.group(1).split() == re.findall(".{4}", account.totp_secret)
    wrong = client.post(ENROL, data={"code": "000000"})
    assert "does not match" in wrong.get_data(as_text=True)
    assert client.get("/admin/").headers["Location"] == ENROL
    done = auth.enrol()
    assert done.status_code == 200
    assert len(recovery_codes(done.get_data(as_text=True))) == 10
    assert client.get("/admin/").status_code == 200
    assert actions(db) == ["2fa.enrol_failed", "2fa.enrol", "login"]


def test_recovery_codes_are_stored_hashed_and_work_once(
        client: FlaskClient, db: Session, auth: StaffLogin) -> None:
    account = user(admin=True, no_second_factor=True)
    db.commit()
    auth.login(account.email)
    codes = recovery_codes(auth.enrol().get_data(as_text=True))
    assert len(set(codes)) == 10
    db.rollback()
    stored = list(db.scalars(select(RecoveryCode.code_hash)))
    assert len(stored) == 10
    assert not any(code.replace("-", "") in hashed for code in codes for hashed in stored)
    auth.logout()
    password_step(client, account.email)
    used = client.post(CODE_STEP, data={"code": codes[0]}, follow_redirects=True)
    assert "You signed in with a recovery code; 9 are left." in used.get_data(as_text=True)
    auth.logout()
    password_step(client, account.email)
    assert client.post(CODE_STEP, data={"code": codes[0]}).status_code == 200  # used up
    # Another code, typed in capitals with spaces, works.
    other = codes[1].upper().replace("-", " ")
    assert client.post(CODE_STEP, data={"code": other}).headers["Location"] == "/staff/"
    assert actions(db).count("2fa.recovery_code_used") == 2


def test_new_recovery_codes_replace_the_old_ones(client: FlaskClient, db: Session, auth: StaffLogin) -> None:
    account = user(admin=True, no_second_factor=True)
    db.commit()
    auth.login(account.email)
    old = recovery_codes(auth.enrol().get_data(as_text=True))
    new = recovery_codes(client.post("/staff/account/recovery-codes").get_data(as_text=True))
    assert len(new) == 10 and not set(old) & set(new)
    auth.logout()
    password_step(client, account.email)
    assert client.post(CODE_STEP, data={"code": old[0]}).status_code == 200
    assert client.post(CODE_STEP, data={"code": new[0]}).status_code == 302


def test_trust_monitor_may_sign_in_with_a_password_and_enrol_from_the_account_page(
        client: FlaskClient, db: Session, auth: StaffLogin) -> None:
    account = user(monitor=True)
    db.commit()
    assert auth.login(account.email).headers["Location"] == "/staff/"
    page = client.get("/staff/account").get_data(as_text=True)
    assert "Set up two-factor sign-in" in page and f'href="{ENROL}"' in page
    assert '<a href="/staff/account">Your account</a>' in client.get("/staff/").get_data(as_text=True)
    done = auth.enrol().get_data(as_text=True)
    assert len(recovery_codes(done)) == 10 and 'href="/staff/account"' in done
    assert "Recovery codes left</th><td>10" in client.get("/staff/account").get_data(as_text=True)
    auth.logout()
    assert password_step(client, account.email).headers["Location"] == CODE_STEP


def test_an_idle_session_expires(make_app: Callable[..., Flask], db: Session, clock: Clock) -> None:
    client = make_app(SESSION_IDLE_MINUTES=5).test_client()
    account = user(monitor=True)
    db.commit()
    StaffLogin(client).login(account.email)
    for _ in range(3):
        clock.advance(minutes=4)  # activity keeps the session alive
        assert client.get("/staff/").status_code == 200
    clock.advance(minutes=5, seconds=1)
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login?next=")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You were signed out after 5 minutes without activity." in page


def test_a_session_ends_at_its_absolute_lifetime(make_app: Callable[..., Flask], db: Session,
                                                 clock: Clock) -> None:
    client = make_app(SESSION_MAX_HOURS=1).test_client()
    account = user(monitor=True)
    db.commit()
    StaffLogin(client).login(account.email)
    for _ in range(3):
        clock.advance(minutes=20)
        assert client.get("/staff/").status_code == 200
    clock.advance(minutes=1)
    assert client.get("/staff/").status_code == 302
    assert "reached its time limit" in client.get("/staff/login").get_data(as_text=True)


def test_demo_accounts_sign_in_with_the_password_alone(client: FlaskClient, db: Session,
                                                       runner: FlaskCliRunner, demo_mode: Flask) -> None:
    summary = load_demo(db, today=dt.date(2026, 11, 26))
    db.commit()
    assert "sign in with the password alone" in summary.render("http://localhost")
    for email in ["admin@example.org", "researcher@example.org"]:
        assert password_step(client, email, DEMO_PASSWORD).headers["Location"] == "/staff/"
        assert client.get("/staff/").status_code == 200
        client.post("/staff/logout")
    # Loading the demo again keeps them demo accounts; a new password makes one an ordinary account.
    load_demo(db, today=dt.date(2026, 11, 26))
    db.commit()
    assert runner.invoke(args=["create-admin", "--email", "admin@example.org", "--password",
                               "now a real password"]).exit_code == 0
    load_demo(db, today=dt.date(2026, 11, 26))
    db.commit()
    assert password_step(client, "admin@example.org", "now a real password").headers["Location"] == ENROL
    assert password_step(client, "researcher@example.org", DEMO_PASSWORD).headers["Location"] == "/staff/"


def test_only_demo_accounts_are_exempt(client: FlaskClient, db: Session, demo_mode: Flask) -> None:
    user(email="plain@example.org", no_second_factor=True)  # a researcher, as the admin page makes them
    user(email="demo@example.org", demo=True)
    db.commit()
    assert password_step(client, "plain@example.org").headers["Location"] == ENROL
    assert password_step(client, "demo@example.org").headers["Location"] == "/staff/"


def test_sign_in_events_are_audited_without_secrets(client: FlaskClient, db: Session, clock: Clock) -> None:
    account = user(email="audited@example.org")
    db.commit()
    password_step(client, "audited@example.org", "a wrong password!")
    password_step(client, "nobody@example.org", "another wrong one")
    password_step(client, account.email)
    client.post(CODE_STEP, data={"code": "123456" if clock.code() != "123456" else "654321"})
    client.post(CODE_STEP, data={"code": clock.code()})
    client.post("/staff/logout")
    db.rollback()
    events = list(db.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id)))
    assert [(e.action, e.user_id) for e in events] == [
        ("login.failed", account.id), ("login.failed", None), ("login.2fa_failed", account.id),
        ("login", account.id), ("logout", account.id)]
    assert events[1].detail == {"email": "nobody@example.org", "step": "password"}
    assert events[3].detail == {"second_factor": "totp"}
    everything = json.dumps([[e.actor, e.detail, e.target_id] for e in events])
    for secret in ["a wrong password!", "another wrong one", f.DEFAULT_PASSWORD, f.TOTP_SECRET, clock.code()]:
        assert secret not in everything


def test_the_code_step_is_rate_limited(make_app: Callable[..., Flask], db: Session) -> None:
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    account = user()
    db.commit()
    password_step(client, account.email)
    statuses = [client.post(CODE_STEP, data={"code": "000000"}).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]


def test_too_many_wrong_codes_lock_the_code_step_for_a_while(client: FlaskClient, db: Session,
                                                             clock: Clock) -> None:
    account = user()
    db.commit()
    password_step(client, account.email)
    wrong = "111111" if clock.code() != "111111" else "222222"
    assert [client.post(CODE_STEP, data={"code": wrong}).status_code for _ in range(10)] == [200] * 10
    locked = client.post(CODE_STEP, data={"code": clock.code()})  # even the right code, from anywhere
    assert locked.status_code == 429
    assert "Too many wrong codes for this account. Wait 15 minutes" in locked.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302
    clock.advance(minutes=9)  # the pending sign-in is still fresh, the lock still holds
    assert client.post(CODE_STEP, data={"code": clock.code()}).status_code == 429
    clock.advance(minutes=7)
    password_step(client, account.email)
    assert client.post(CODE_STEP, data={"code": clock.code()}).headers["Location"] == "/staff/"
    assert actions(db).count("login.2fa_failed") == 10


def test_create_admin_asks_for_the_password_when_not_given(runner: FlaskCliRunner, db: Session) -> None:
    result = runner.invoke(args=["create-admin", "--email", "asked@example.org"],
                           input="a typed password\na typed password\n")
    assert result.exit_code == 0, result.output
    assert "Created admin asked@example.org" in result.output
    account = db.scalars(select(m.User)).one()
    assert account.check_password("a typed password") and not account.is_demo


def test_the_code_step_needs_the_password_first(client: FlaskClient, db: Session, clock: Clock) -> None:
    account = user()
    db.commit()
    response = client.post(CODE_STEP, data={"code": clock.code()})
    assert response.headers["Location"] == "/staff/login"
    password_step(client, account.email)
    clock.advance(minutes=11)  # an unfinished sign-in does not wait for ever
    assert client.post(CODE_STEP, data={"code": clock.code()}).headers["Location"] == "/staff/login"


def test_a_monitor_made_researcher_sets_up_a_second_factor_before_going_on(
        client: FlaskClient, db: Session, auth: StaffLogin) -> None:
    account = user(monitor=True)
    db.commit()
    auth.login(account.email)
    account.role, account.organisation = m.StaffRole.RESEARCHER, None
    db.commit()
    assert client.get("/research/").headers["Location"] == ENROL
    assert auth.enrol().status_code == 200
    assert client.get("/research/").status_code == 200


def test_a_deactivated_account_is_signed_out(client: FlaskClient, db: Session, auth: StaffLogin) -> None:
    account = user(monitor=True)
    db.commit()
    auth.login(account.email)
    account.active = False
    db.commit()
    assert client.get("/staff/").status_code == 302
