"""Job runs and the scheduler heartbeat: record, prune, and summarise for operators."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from survey.db import insert_on_conflict
from survey.models import JobRun, SchedulerHeartbeat

OK = "ok"
FAILED = "failed"
# A job is flagged on the admin home once this many of its latest runs failed in a row.
FAILING_STREAK = 3
KEEP = dt.timedelta(days=14)
# How far back the failure streak is counted (the page says "20 or more" beyond it).
STREAK_LOOKBACK = 20
ERROR_CHARS = 500


def safe_error(exc: BaseException) -> str:
    """The error's type and first line, short: no traceback, SQL parameters or DETAIL lines."""
    from sqlalchemy.exc import StatementError

    # SQLAlchemy's message repeats the statement and its parameters (which may hold contact
    # details); the driver's own first line says what went wrong.
    inner = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    lines = str(inner).strip().splitlines()
    first = lines[0] if lines else ""
    return f"{type(inner).__name__}: {first}"[:ERROR_CHARS]


def record(
    db: Session, job: str, started_at: dt.datetime, finished_at: dt.datetime,
    counts: dict[str, Any] | None = None, error: BaseException | None = None, runner: str = "",
) -> JobRun:
    """Add one run: ok without an error, failed with one (only a safe summary is stored)."""
    run = JobRun(
        job=job, started_at=started_at, finished_at=finished_at,
        outcome=FAILED if error is not None else OK, counts=counts or {},
        error=safe_error(error) if error is not None else None, runner=runner[:200],
    )
    db.add(run)
    db.flush()
    return run


def prune(db: Session, now: dt.datetime, keep: dt.timedelta = KEEP) -> int:
    """Delete runs older than `keep`, except each job's latest success; the number deleted."""
    latest_ok = select(func.max(JobRun.id)).where(JobRun.outcome == OK).group_by(JobRun.job)
    result = db.execute(
        delete(JobRun)
        .where(and_(JobRun.started_at < now - keep, JobRun.id.not_in(latest_ok)))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def beat(db: Session, instance: str, host: str, pid: int, started_at: dt.datetime,
         now: dt.datetime) -> None:
    """Record that a scheduler process is alive now; forget processes silent for a day."""
    # One statement, so two passes of one process beating at once cannot both insert the row.
    db.execute(
        insert_on_conflict(db, SchedulerHeartbeat)
        .values(instance=instance, host=host[:200], pid=pid, started_at=started_at, beat_at=now)
        .on_conflict_do_update(index_elements=["instance"], set_={"beat_at": now})
    )
    db.execute(
        delete(SchedulerHeartbeat)
        .where(SchedulerHeartbeat.beat_at < now - dt.timedelta(days=1))
        .execution_options(synchronize_session=False)
    )
    db.flush()


def latest_beat(db: Session) -> SchedulerHeartbeat | None:
    """The most recent heartbeat of any scheduler, or None if none ever ran."""
    return db.scalar(select(SchedulerHeartbeat).order_by(SchedulerHeartbeat.beat_at.desc()).limit(1))


@dataclass(frozen=True)
class JobStatus:
    """What an operator needs to know about one job."""

    job: str
    last_run: JobRun | None
    last_success: JobRun | None
    failures_in_a_row: int

    @property
    def failing(self) -> bool:
        """The latest FAILING_STREAK runs all failed."""
        return self.failures_in_a_row >= FAILING_STREAK


def status(db: Session, jobs: list[str]) -> list[JobStatus]:
    """For each job: its last run, last success and how many of its latest runs failed."""
    out = []
    for job in jobs:
        recent = list(db.scalars(
            select(JobRun).where(JobRun.job == job).order_by(JobRun.id.desc()).limit(STREAK_LOOKBACK)
        ))
        last_success = db.scalar(
            select(JobRun).where(JobRun.job == job, JobRun.outcome == OK)
            .order_by(JobRun.id.desc()).limit(1)
        )
        streak = 0
        for run in recent:
            if run.outcome != FAILED:
                break
            streak += 1
        out.append(JobStatus(job, recent[0] if recent else None, last_success, streak))
    return out
