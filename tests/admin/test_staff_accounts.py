"""Staff accounts: list without secrets, add with a checked password, change role, (de)activate."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from tests import factories as f
from tests.admin.conftest import count, csrf_token, new_trust, new_user
from tests.conftest import StaffLogin

PASSWORD = "a long enough secret"
NEW = {"email": "New.Person@Example.org", "role": "trust_monitor", "trust": "NRT",
       "password": PASSWORD, "password_again": PASSWORD}


@pytest.fixture
def trust(db: Session) -> m.Organisation:
    organisation = new_trust(code="NRT", name="North Trust")
    db.commit()
    return organisation


def user_events(db: Session) -> list[m.AuditEvent]:
    db.rollback()  # end the read snapshot
    return list(db.scalars(select(m.AuditEvent).where(m.AuditEvent.action.like("user.%"))
                           .order_by(m.AuditEvent.id)))


def test_list_shows_accounts_but_never_a_hash(client: FlaskClient, db: Session, admin: m.User,
                                              trust: m.Organisation) -> None:
    monitor = new_user(email="monitor@example.org", role=m.StaffRole.TRUST_MONITOR,
                            organisation=trust, active=False)
    db.commit()
    page = client.get("/admin/staff").get_data(as_text=True)
    assert re.search(r'<th scope="row">monitor@example.org</th>\s*<td>trust monitor</td>\s*<td>NRT</td>'
                     r'\s*<td>no</td>\s*<td>never</td>', page)
    assert re.search(rf'<th scope="row">{re.escape(admin.email)}</th>\s*<td>admin</td>\s*<td>–</td>'
                     r'\s*<td>yes</td>\s*<td>\d{4}-\d\d-\d\d \d\d:\d\d</td>', page)  # just signed in
    assert monitor.password_hash not in page and "scrypt:" not in page and "pbkdf2:" not in page
    assert f'action="/admin/staff/{monitor.id}/reactivate"' in page
    assert f'action="/admin/staff/{admin.id}/deactivate"' not in page  # no button for oneself


def test_add_an_account(client: FlaskClient, db: Session, admin: m.User, auth: StaffLogin,
                        trust: m.Organisation) -> None:
    response = client.post("/admin/staff", data=NEW, follow_redirects=True)
    assert "Added the account new.person@example.org (trust monitor)." in response.get_data(as_text=True)
    db.rollback()
    user = db.scalars(select(m.User).where(m.User.email == "new.person@example.org")).one()
    assert (user.role, user.organisation_id, user.active) == (m.StaffRole.TRUST_MONITOR, trust.id, True)
    assert user.check_password(PASSWORD)
    [event] = user_events(db)
    assert (event.action, event.actor, event.target_id) == ("user.create", admin.email, str(user.id))
    assert event.detail == {"role": "trust_monitor", "trust": "NRT"}
    assert PASSWORD not in json.dumps(event.detail) and user.password_hash not in json.dumps(event.detail)
    auth.logout()
    assert auth.login("new.person@example.org", PASSWORD).headers["Location"] == "/staff/"


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"password_again": PASSWORD + "!"}, "password_again", "The two passwords are not the same."),
    ({"password": "too short", "password_again": "too short"}, "password",
     "The password is too short: use at least 12 characters."),
    ({"trust": ""}, "trust", "Choose the trust this trust monitor may see."),
    ({"role": "researcher"}, "trust", "Only trust monitors belong to a trust; leave the trust empty for a researcher."),
    ({"email": "not-an-address"}, "email", "&#39;not-an-address&#39; is not a valid email address."),
    ({"email": "TAKEN@example.org"}, "email", "There is already an account for taken@example.org."),
    ({"role": "superuser"}, "role", "Not a valid choice"),
])
def test_refused_accounts_write_nothing(client: FlaskClient, db: Session, admin: m.User,
                                        trust: m.Organisation, change: dict[str, str], field: str,
                                        message: str) -> None:
    new_user(email="taken@example.org")
    db.commit()
    accounts = count(db, m.User)
    response = client.post("/admin/staff", data=NEW | change)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<p class="error-text" id="{field}-error">{message}' in page
    assert re.search(rf'<(input|select)[^>]*aria-describedby="[^"]*{field}-error"', page)
    assert PASSWORD not in page  # a typed password is never sent back
    assert count(db, m.User) == accounts
    assert user_events(db) == []


def test_several_problems_are_listed_at_once(client: FlaskClient, db: Session, admin: m.User) -> None:
    page = client.post("/admin/staff", data={"email": "x", "role": "trust_monitor", "trust": "",
                                             "password": "short", "password_again": "short"}
                       ).get_data(as_text=True)
    for field in ("email", "trust", "password"):
        assert f'id="{field}-error"' in page


def test_change_role_and_trust(client: FlaskClient, db: Session, admin: m.User,
                               trust: m.Organisation) -> None:
    researcher = new_user()
    db.commit()
    url = f"/admin/staff/{researcher.id}/edit"
    assert '<option selected value="researcher">' in client.get(url).get_data(as_text=True)
    refused = client.post(url, data={"role": "trust_monitor", "trust": ""})
    assert refused.status_code == 400
    assert "Choose the trust this trust monitor may see." in refused.get_data(as_text=True)
    assert user_events(db) == []
    assert client.post(url, data={"role": "trust_monitor", "trust": "NRT"}).status_code == 302
    db.rollback()
    db.refresh(researcher)
    assert (researcher.role, researcher.organisation_id) == (m.StaffRole.TRUST_MONITOR, trust.id)
    [event] = user_events(db)
    assert event.detail == {"role": ["researcher", "trust_monitor"], "trust": [None, "NRT"]}
    own = client.post(f"/admin/staff/{admin.id}/edit", data={"role": "researcher", "trust": ""})
    assert "You cannot change your own role" in own.get_data(as_text=True)
    db.rollback()
    db.refresh(admin)
    assert admin.role == m.StaffRole.ADMIN
    assert client.get("/admin/staff/9999/edit").status_code == 404


def test_deactivate_and_reactivate_with_csrf(make_app: Callable[..., Flask], db: Session) -> None:
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    admin = new_user(admin=True)
    other = new_user(email="other@example.org")
    db.commit()
    StaffLogin(client).login(admin.email)  # with the forms' CSRF tokens
    assert client.post(f"/admin/staff/{other.id}/deactivate").status_code == 400  # no token
    token = csrf_token(client, "/admin/staff")
    page = client.post(f"/admin/staff/{other.id}/deactivate", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "other@example.org can no longer sign in." in page
    db.rollback()
    db.refresh(other)
    assert other.active is False
    # A deactivated account cannot sign in.
    other_client = make_app(WTF_CSRF_ENABLED=False).test_client()
    assert other_client.post("/staff/login", data={"email": "other@example.org",
                                                   "password": f.DEFAULT_PASSWORD}).status_code == 200
    client.post(f"/admin/staff/{other.id}/reactivate", data={"csrf_token": token})
    db.rollback()
    db.refresh(other)
    assert other.active is True
    assert [(e.action, e.target_id, e.detail) for e in user_events(db)] == [
        ("user.deactivate", str(other.id), {}), ("user.reactivate", str(other.id), {})]


def test_an_admin_cannot_deactivate_themselves(client: FlaskClient, db: Session, admin: m.User) -> None:
    page = client.post(f"/admin/staff/{admin.id}/deactivate", follow_redirects=True).get_data(as_text=True)
    assert "You cannot deactivate your own account." in page
    db.rollback()
    db.refresh(admin)
    assert admin.active is True
    assert user_events(db) == []
    assert client.post("/admin/staff/9999/deactivate").status_code == 404
