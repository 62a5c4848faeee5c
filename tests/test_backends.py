"""Which database backends this run covers: a run without PostgreSQL says so in its summary.

The database fixtures (tests/conftest.py) run on PostgreSQL only when TEST_DATABASE_URL is set
(CI=true without it stops the run). Outside CI the PostgreSQL half would otherwise vanish
silently, so this test stands for it: it is skipped with a visible reason, or checks the server.
"""

from __future__ import annotations

import pytest
from sqlalchemy import make_url, text

from survey.db import make_engine
from tests.conftest import PG_URL

NO_POSTGRESQL = "PostgreSQL backend not run: TEST_DATABASE_URL is not set"


@pytest.mark.skipif(not PG_URL, reason=NO_POSTGRESQL)
def test_postgresql_backend_answers_and_can_force_drop_test_databases() -> None:
    # The fixtures drop their databases WITH (FORCE), which needs PostgreSQL 13 or later.
    url = make_url(PG_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            version = int(conn.execute(text("SHOW server_version_num")).scalar_one())
    finally:
        engine.dispose()
    assert version >= 130000, f"PostgreSQL {version} at TEST_DATABASE_URL is older than 13"
