"""Shared fixtures: the migrated database (SQLite always, PostgreSQL when configured), app, client.

Every test that uses `app`, `db` or `client` runs once per database backend. SQLite is always
tested; PostgreSQL too when TEST_DATABASE_URL is set (it must be under CI=true). Each test run
gets its own freshly created and migrated PostgreSQL database, so parallel runs never collide;
after each test every table is emptied, so each test starts from an empty schema.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, make_url, select, text
from sqlalchemy.orm import Session

from survey import create_app
from survey import models as m
from survey.db import Base, get_engine, get_sessionmaker, make_engine
from survey.extensions import limiter
from survey.models import User
from survey.services import migrations
from survey.services.demo import load_demo
from tests.factories import TOTP_SECRET

pytest_plugins = ["tests.browser_fixtures"]

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"
#: The day the shared `demo` fixture loads the demo on (its waves are dated from it).
DEMO_DAY = dt.date(2026, 11, 26)
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL or IN_CI else [])


def pytest_configure(config: pytest.Config) -> None:
    """Under CI, PostgreSQL is not optional."""
    if IN_CI and not PG_URL:
        raise pytest.UsageError("CI=true but TEST_DATABASE_URL is not set: PostgreSQL tests must run")


def _create_pg_database(base_url: str) -> tuple[str, Engine]:
    """Create an empty, uniquely named database next to TEST_DATABASE_URL's."""
    url = make_url(base_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"peerpulse_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url.render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), admin


def migrated_pg_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database of its own, dropped afterwards (for fixtures to yield from).

    For tests that run real servers or several processes against one database. Skipped outside
    CI when no PostgreSQL is configured; under CI=true a missing one fails.
    """
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but TEST_DATABASE_URL is not set")
        pytest.skip("TEST_DATABASE_URL is not set (PostgreSQL-only test; required under CI)")
    url, admin = _create_pg_database(PG_URL)
    engine = make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database for this test session, one per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        admin = None
    else:
        url, admin = _create_pg_database(PG_URL or "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    engine = make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    yield url
    if admin is not None:
        name = make_url(url).database
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_all_tables(engine: Engine) -> None:
    """Delete every row, children first (faster than recreating the schema)."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        if engine.dialect.has_table(conn, "apscheduler_jobs"):
            conn.execute(text("DELETE FROM apscheduler_jobs"))


def app_factory(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """Build apps on a test database (one engine each, like separate processes); clean up after."""
    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        config = {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "BASE_URL": "http://localhost",
            "MAIL_BACKEND": "file",
            "MAIL_FILE_DIR": str(tmp_path / "mail"),
            "SMS_FILE_DIR": str(tmp_path / "sms"),
        }
        config.update(overrides)
        application = create_app(config)
        # One Limiter serves every app in this process: start each test with no counts left
        # over from an earlier test that used the same link or address within the minute.
        if application.config.get("RATELIMIT_ENABLED", True):
            limiter.reset()
        apps.append(application)
        return application

    yield factory
    if apps:
        empty_all_tables(get_engine(apps[0]))
    for application in apps:
        get_engine(application).dispose()


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """Build apps on the test database with overrides; tables are emptied afterwards."""
    yield from app_factory(database_url, tmp_path)


@pytest.fixture
def app(make_app: Any) -> Flask:
    """The application on the test database (CSRF and rate limits off; see make_app)."""
    application: Flask = make_app()
    return application


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session on the test database, bound to the factories."""
    from tests import factories

    session = get_sessionmaker(app)()
    factories.bind(session)
    yield session
    session.rollback()
    session.close()
    factories.bind(None)


@pytest.fixture
def trust(db: Session) -> dict[str, object]:
    """One trust: a big team (6 peers, 6 colleagues), a small team (2 peers, 5 colleagues)."""
    from tests import factories as f
    from tests.helpers import completed_with_scores, publish

    org = f.OrganisationFactory(code="NRT", name="North Riverside")
    study = f.StudyFactory()
    w1 = f.WaveFactory(study=study, index=1, label="Baseline")
    w2 = f.WaveFactory(study=study, index=2, label="3 months")
    big = f.TeamFactory(organisation=org, name="Big team")
    small = f.TeamFactory(organisation=org, name="Small team")
    for team, peers, colleagues in ((big, 6, 6), (small, 2, 5)):
        for i in range(peers):
            p = f.ParticipantFactory(study=study, team=team)
            completed_with_scores(db, p, w1, {"equality": 2.0 + i * 0.1, "support": 3.0})
            completed_with_scores(db, p, w2, {"equality": 3.0 + i * 0.1, "support": 3.5})
        for i in range(colleagues):
            c = f.ParticipantFactory(study=study, team=team, colleague=True)
            completed_with_scores(db, c, w1, {"equality": 4.0 + i * 0.01, "support": 4.0})
    # One invited peer worker who never answered wave 1.
    f.InvitationFactory(participant=f.ParticipantFactory(study=study, team=big), wave=w1,
                        status=m.InvitationStatus.EXPIRED)
    other = f.OrganisationFactory(code="SHP", name="South Hills")
    f.ParticipantFactory(study=study, team=f.TeamFactory(organisation=other))
    db.commit()
    publish(db)
    return {"org": org, "other": other, "study": study}


@pytest.fixture
def demo_mode(app: Flask) -> Flask:
    """The app in demo mode (PEERPULSE_DEMO=1): demo accounts sign in with the password alone."""
    app.config["DEMO"] = True
    return app


@pytest.fixture
def demo(db: Session, demo_mode: Flask) -> m.Study:
    """The demo study as loaded on 26 November 2026 (in demo mode): four trusts, twelve teams, 156 participants."""
    load_demo(db, today=DEMO_DAY)
    db.commit()
    return db.scalars(select(m.Study).where(m.Study.code == "demo")).one()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner."""
    return app.test_cli_runner()


class StaffLogin:
    """Sign staff in and out through the real forms: password, then the code from the app."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def _with_csrf(self, path: str, data: dict[str, str]) -> dict[str, str]:
        """The form data, with the page's CSRF token when the app checks them."""
        if self._client.application.config.get("WTF_CSRF_ENABLED", True):
            page = self._client.get(path).get_data(as_text=True)
            found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
            if found:
                data["csrf_token"] = found.group(1)
        return data

    def login(self, email: str, password: str = "correct horse battery") -> Any:
        """Post the sign-in form and, when a code is asked for, the current code; the last response."""
        response = self._client.post(
            "/staff/login", data=self._with_csrf("/staff/login", {"email": email, "password": password}))
        if response.status_code == 302 and response.headers["Location"].startswith("/staff/login/code"):
            response = self.send_code(self.next_code(email))
        return response

    def send_code(self, code: str) -> Any:
        """Post the second-factor form."""
        return self._client.post("/staff/login/code", data=self._with_csrf("/staff/login/code", {"code": code}))

    def next_code(self, email: str, secret: str = TOTP_SECRET) -> str:
        """The code of the first time step the account has not used yet (replays are refused)."""
        with get_sessionmaker(self._client.application)() as session:
            last = session.scalar(select(User.totp_last_step).where(User.email == email.strip().lower()))
        step = int(time.time()) // 30
        if last is not None and last >= step:
            step = last + 1  # the server accepts one step ahead (clock drift)
        assert step <= int(time.time()) // 30 + 1, (
            "this account used up the codes of this minute: sign in again with the test's own clock")
        return pyotp.TOTP(secret).generate_otp(step)

    @staticmethod
    def code_now(secret: str = TOTP_SECRET) -> str:
        """The code an authenticator app shows now for this secret."""
        return pyotp.TOTP(secret).now()

    def enrol(self) -> Any:
        """Set up the second factor on the enrolment page, typing the secret it shows; the response."""
        page = self._client.get("/staff/account/two-factor").get_data(as_text=True)
        shown = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', page)
        assert shown is not None, "no secret on the enrolment page"
        return self._client.post("/staff/account/two-factor", data=self._with_csrf(
            "/staff/account/two-factor", {"code": self.code_now(shown.group(1).replace(" ", ""))}))

    def logout(self) -> Any:
        """Sign out."""
        return self._client.post("/staff/logout", data=self._with_csrf("/staff/account", {}))


@pytest.fixture
def auth(client: FlaskClient) -> StaffLogin:
    """Helper to sign in as a staff user (password defaults to the factories' one)."""
    return StaffLogin(client)
