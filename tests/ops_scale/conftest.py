"""A PostgreSQL database of its own for the tests that run real servers (gunicorn, schedulers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import make_url, text

from survey import create_app
from survey.db import get_engine, make_engine
from survey.services import migrations
from tests.conftest import IN_CI, PG_URL, _create_pg_database, empty_all_tables


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A migrated PostgreSQL database for this module (servers share it with the test)."""
    if not PG_URL and not IN_CI:
        pytest.skip("TEST_DATABASE_URL is not set (PostgreSQL is required under CI)")
    url, admin = _create_pg_database(PG_URL or "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    engine = make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_app(pg_url: str) -> Iterator[Flask]:
    """An app on that database, to set data up and read it back; tables emptied afterwards."""
    app = create_app({"TESTING": True, "DATABASE_URL": pg_url, "SECRET_KEY": "scale-test-secret-key"})
    yield app
    empty_all_tables(get_engine(app))
    get_engine(app).dispose()
