"""Alembic: the migrations build the models' schema, round-trip, and agree with the models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, make_url, text

from survey.db import Base, make_engine
from survey.services import migrations
from tests.conftest import BACKENDS, PG_URL


@pytest.fixture(params=BACKENDS)
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each backend, not yet migrated."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        engine.dispose()
        return
    base = make_url(PG_URL or "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    name = f"peerpulse_mig_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base.render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(base.set(database=name).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_creates_every_model_table_and_check_is_clean(fresh_engine: Engine) -> None:
    migrations.upgrade(fresh_engine)
    assert _tables(fresh_engine) == set(Base.metadata.tables)
    assert migrations.check(fresh_engine) is None


def test_upgrade_downgrade_upgrade_round_trip(fresh_engine: Engine) -> None:
    migrations.upgrade(fresh_engine)
    head = migrations.current_revision(fresh_engine)
    migrations.downgrade(fresh_engine, "base")
    assert _tables(fresh_engine) == set()
    migrations.upgrade(fresh_engine)
    assert migrations.current_revision(fresh_engine) == head
    assert migrations.check(fresh_engine) is None


def test_check_reports_a_model_the_migrations_lack(fresh_engine: Engine) -> None:
    migrations.upgrade(fresh_engine)
    with fresh_engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_event"))
    problem = migrations.check(fresh_engine)
    assert problem is not None and "audit_event" in problem


def test_single_head() -> None:
    """The chain of migrations is linear: one head."""
    from alembic.script import ScriptDirectory

    config = migrations.alembic_config(make_engine("sqlite://"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
