"""A PostgreSQL database of its own for the tests that run real servers (gunicorn, schedulers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from survey import create_app
from survey.db import get_engine
from tests.conftest import empty_all_tables, migrated_pg_database


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A migrated PostgreSQL database for this module (servers share it with the test)."""
    yield from migrated_pg_database()


@pytest.fixture
def pg_app(pg_url: str) -> Iterator[Flask]:
    """An app on that database, to set data up and read it back; tables emptied afterwards."""
    app = create_app({"TESTING": True, "DATABASE_URL": pg_url, "SECRET_KEY": "scale-test-secret-key"})
    yield app
    empty_all_tables(get_engine(app))
    get_engine(app).dispose()
