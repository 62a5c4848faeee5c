"""The readiness checks: each returns a status ("ok", "fail" or "skipped") and a reason.

Reasons name what to do but never carry secrets: no URLs, hosts, user names or driver
messages, only the kind of failure.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from survey.db import utcnow
from survey.services import job_runs, migrations

OK, FAIL, SKIPPED = "ok", "fail", "skipped"


@dataclass(frozen=True)
class Check:
    """One check's outcome."""

    status: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        """JSON-ready."""
        return {"status": self.status, "detail": self.detail}


@functools.cache
def migration_heads() -> frozenset[str]:
    """The head revisions of the migrations shipped with this code (read once)."""
    from alembic.script import ScriptDirectory

    from survey.db import make_engine

    config = migrations.alembic_config(make_engine("sqlite://"))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def database(engine: Engine) -> Check:
    """The database answers a trivial query."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return Check(FAIL, f"database unreachable ({type(exc).__name__})")
    return Check(OK, "the database answers")


def schema(engine: Engine) -> Check:
    """The database is migrated to the head revision of this code."""
    try:
        current = migrations.current_revision(engine)
    except Exception as exc:
        return Check(FAIL, f"cannot read the schema revision ({type(exc).__name__})")
    heads = migration_heads()
    if current is None or frozenset(current.split(",")) != heads:
        return Check(FAIL, f"schema at {current or 'no revision'}, code expects "
                           f"{','.join(sorted(heads))}: run `flask db upgrade`")
    return Check(OK, f"schema at head {current}")


def scheduler(engine: Engine, config: dict[str, Any], now: dt.datetime | None = None) -> Check:
    """A scheduler (or a cron-run dispatch pass) beat recently enough."""
    if not config.get("READY_REQUIRE_SCHEDULER", True):
        return Check(SKIPPED, "not required (PEERPULSE_READY_REQUIRE_SCHEDULER is off)")
    max_age = int(config.get("HEARTBEAT_MAX_AGE", 120))
    now = now or utcnow()
    try:
        with Session(engine) as db:
            beat = job_runs.latest_beat(db)
    except Exception as exc:
        return Check(FAIL, f"cannot read the scheduler heartbeat ({type(exc).__name__})")
    if beat is None:
        return Check(FAIL, "no scheduler has run: start `flask scheduler` (or run "
                           "`flask dispatch --once` from cron) against this database")
    age = (now - beat.beat_at).total_seconds()
    if age > max_age:
        return Check(FAIL, f"the scheduler was last seen {int(age)} s ago (more than "
                           f"{max_age} s): is `flask scheduler` running?")
    return Check(OK, f"the scheduler was last seen {int(age)} s ago")


def mail(config: dict[str, Any]) -> Check:
    """The mail backend is one PeerPulse knows, with what it needs to deliver."""
    backend = str(config.get("MAIL_BACKEND", ""))
    if backend == "smtp":
        if not config.get("SMTP_HOST") or not config.get("SMTP_PORT"):
            return Check(FAIL, "MAIL_BACKEND is smtp but SMTP_HOST or SMTP_PORT is not set")
        return Check(OK, "smtp")
    if backend == "file":
        directory = Path(str(config.get("MAIL_FILE_DIR", "")))
        target = directory if directory.exists() else directory.parent
        if not (target.is_dir() and os.access(target, os.W_OK)):
            return Check(FAIL, "MAIL_BACKEND is file but MAIL_FILE_DIR cannot be written")
        return Check(OK, "file")
    return Check(FAIL, f"MAIL_BACKEND must be smtp or file, not '{backend}'")
