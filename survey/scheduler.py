"""APScheduler wiring: the dispatch steps, a daily retention job and a heartbeat.

The job store is the application database (SQLAlchemyJobStore on the app's engine, writing
variant). Jobs are stored by reference ("survey.scheduler:open_due_job") and find the app
through this module, because a Flask app cannot be pickled into the job store. Every job
opens its own session, and every run is recorded in `job_run` (services/job_runs.py) in a
session of its own, so a failed job is recorded even though its own work was rolled back.
Intervals come from the app config `SCHEDULER_INTERVALS` (defaults in JOB_INTERVALS).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy import Engine, Table, text

from survey.config import ConfigError
from survey.db import get_engine, get_sessionmaker, session_scope, utcnow
from survey.messaging.email import MailSettings
from survey.messaging.sms import SmsSettings
from survey.services import dashboard_publication, invitations, job_runs, outbox, retention

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)

# The steps of one dispatch pass, in order, with their default seconds between runs.
STEP_INTERVALS: dict[str, int] = {
    "materialise": 600,
    "open_due": 60,
    "reminders": 300,
    "expire": 600,
    "publish": 300,
    "deliver": 30,
}
# Every scheduled job: the steps, and retention once a day (it executes, unlike the CLI's dry run).
JOB_INTERVALS: dict[str, int] = {**STEP_INTERVALS, "retention": 86400}
HEARTBEAT_SECONDS = 30

_app: Flask | None = None
_started_at = utcnow()


def runner_name(kind: str) -> str:
    """Who runs a job, for the job_run table and the heartbeat: kind@host:pid."""
    return f"{kind}@{socket.gethostname()}:{os.getpid()}"


def intervals(app: Flask) -> dict[str, int]:
    """Seconds between runs of each job: the defaults overridden by SCHEDULER_INTERVALS."""
    overrides = dict(app.config.get("SCHEDULER_INTERVALS") or {})
    unknown = sorted(set(overrides) - set(JOB_INTERVALS))
    if unknown:
        raise ConfigError(
            f"PEERPULSE_JOB_INTERVALS names unknown jobs {', '.join(unknown)}; "
            f"the jobs are {', '.join(JOB_INTERVALS)}"
        )
    return {**JOB_INTERVALS, **overrides}


@dataclass
class PassReport:
    """What one pass of every step did, and which steps failed (step -> error summary)."""

    materialised: int = 0
    opened: int = 0
    reminded: int = 0
    expired: int = 0
    published: int = 0
    delivery: outbox.DeliveryReport = field(default_factory=outbox.DeliveryReport)
    failures: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The counts, one per line, for the terminal."""
        d = self.delivery
        return [
            f"invitations created: {self.materialised}",
            f"invitations opened (emails and texts queued): {self.opened}",
            f"reminders queued: {self.reminded}",
            f"invitations expired: {self.expired}",
            f"dashboard waves published: {self.published}",
            f"emails and texts sent: {d.sent}, retrying: {d.retrying}, failed: {d.failed}, "
            f"cancelled: {d.cancelled}, deferred: {d.deferred}",
        ]


class PassFailed(RuntimeError):
    """One or more steps of a pass failed; the others ran. Carries the report."""

    def __init__(self, report: PassReport) -> None:
        self.report = report
        super().__init__("; ".join(f"{step} failed: {error}" for step, error in report.failures.items()))


StepResult = int | outbox.DeliveryReport


def run_step(app: Flask, name: str, now: dt.datetime | None = None) -> StepResult:
    """Run one step in its own writing session."""
    now = now or utcnow()
    settings = MailSettings.from_config(app.config)
    batch = int(app.config.get("INVITATION_BATCH_SIZE", invitations.BATCH_SIZE))
    # Steps that commit in stages take the session factory; the others commit here, once.
    sessions = get_sessionmaker(app, writing=True)
    if name == "open_due":
        return invitations.open_due(sessions, settings, now, batch_size=batch)
    if name == "reminders":
        return invitations.queue_reminders(sessions, settings, now, batch_size=batch)
    if name == "publish":
        return dashboard_publication.publish_all(sessions, now)
    if name == "deliver":
        return outbox.deliver(
            sessions, settings, now,
            batch_size=int(app.config.get("OUTBOX_BATCH_SIZE", outbox.BATCH_SIZE)),
            lease=dt.timedelta(seconds=int(app.config.get(
                "OUTBOX_LEASE_SECONDS", outbox.LEASE.total_seconds()))),
            sms_settings=SmsSettings.from_config(app.config),
        )
    with session_scope(app) as db:
        if name == "materialise":
            return invitations.materialise(db, now)
        if name == "expire":
            return invitations.expire(db, now)
        if name == "retention":
            done = retention.apply_retention(db, now, dry_run=False)
            return sum(1 for result in done if result.changed)
    raise ValueError(f"unknown step '{name}'")


def _counts(result: StepResult) -> dict[str, Any]:
    """A step's result as JSON-ready counts."""
    if isinstance(result, outbox.DeliveryReport):
        counts = dataclasses.asdict(result)
        counts["errors"] = len(result.errors)  # the count only: messages may name recipients
        return counts
    return {"count": int(result)}


def run_recorded(app: Flask, name: str, runner: str, now: dt.datetime | None = None) -> StepResult:
    """Run a step and record the run (ok with its counts, or failed with a safe summary)."""
    started = utcnow()
    try:
        result = run_step(app, name, now)
    except Exception as exc:
        try:
            with session_scope(app) as db:
                job_runs.record(db, name, started, utcnow(), error=exc, runner=runner)
        except Exception:
            # The database may be what failed: keep the step's own error for the caller.
            log.warning("could not record the failed run of %s", name, exc_info=True)
        raise
    with session_scope(app) as db:
        job_runs.record(db, name, started, utcnow(), counts=_counts(result), runner=runner)
    return result


def run_pass(app: Flask, now: dt.datetime | None = None) -> PassReport:
    """Run every step once, in order (what `flask dispatch --once` does); PassFailed if any failed.

    A failing step does not stop the others: each commits or rolls back on its own.
    """
    now = now or utcnow()
    runner = runner_name("dispatch")
    report = PassReport()
    results: dict[str, StepResult] = {}
    for name in STEP_INTERVALS:
        try:
            results[name] = run_recorded(app, name, runner, now)
        except Exception as exc:
            # The caller prints one line per failed step; the traceback only at debug level.
            log.debug("dispatch step %s failed", name, exc_info=True)
            report.failures[name] = job_runs.safe_error(exc)
    report.materialised = int(results.get("materialise", 0))  # type: ignore[arg-type]
    report.opened = int(results.get("open_due", 0))  # type: ignore[arg-type]
    report.reminded = int(results.get("reminders", 0))  # type: ignore[arg-type]
    report.expired = int(results.get("expire", 0))  # type: ignore[arg-type]
    report.published = int(results.get("publish", 0))  # type: ignore[arg-type]
    delivery = results.get("deliver", outbox.DeliveryReport())
    assert isinstance(delivery, outbox.DeliveryReport)
    report.delivery = delivery
    # A cron-driven deployment has no scheduler process: the pass is its sign of life.
    try:
        heartbeat(app, runner, now=utcnow())
    except Exception as exc:
        report.failures["heartbeat"] = job_runs.safe_error(exc)
    if report.failures:
        raise PassFailed(report)
    return report


def heartbeat(app: Flask, instance: str | None = None, now: dt.datetime | None = None) -> None:
    """Record this process's heartbeat and prune old job runs."""
    now = now or utcnow()
    instance = instance or runner_name("scheduler")
    with session_scope(app) as db:
        job_runs.beat(db, instance, socket.gethostname(), os.getpid(), _started_at, now)
        job_runs.prune(db, now)


def _job(name: str) -> Callable[[], None]:
    def run() -> None:
        if _app is None:
            raise RuntimeError("the scheduler's app is not set; use build_scheduler(app)")
        try:
            result = run_recorded(_app, name, runner_name("scheduler"))
        except Exception:
            log.exception("scheduler job %s failed; it will run again at its next time", name)
            return
        log.info("scheduler job %s: %s", name, result)

    run.__name__ = f"{name}_job"
    run.__doc__ = f"Scheduled job: run the {name} step."
    return run


materialise_job = _job("materialise")
open_due_job = _job("open_due")
reminders_job = _job("reminders")
expire_job = _job("expire")
publish_job = _job("publish")
deliver_job = _job("deliver")
retention_job = _job("retention")


def heartbeat_job() -> None:
    """Scheduled job: tell readiness checks and operators that this scheduler is alive."""
    if _app is None:
        raise RuntimeError("the scheduler's app is not set; use build_scheduler(app)")
    try:
        heartbeat(_app)
    except Exception:
        log.exception("scheduler heartbeat failed; it will try again")


# Any fixed number: the PostgreSQL advisory lock that serialises creating the job table.
JOB_TABLE_LOCK = 0x5050_4A4F  # "PPJO"


def create_job_table(table: Table, engine: Engine) -> None:
    """Create APScheduler's job table unless it exists, safely when schedulers start together.

    The job store's own start-up checks for the table and then creates it: two schedulers
    starting at once on a new database both see no table, and one dies on PostgreSQL with a
    duplicate-key error from the catalogue. Here the check and the creation are one
    transaction behind an advisory lock (PostgreSQL) or a write lock (SQLite, BEGIN
    IMMEDIATE), so the second scheduler waits and then finds the table.
    """
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": JOB_TABLE_LOCK})
        table.create(conn, checkfirst=True)


def build_scheduler(app: Flask, *, blocking: bool = True) -> BaseScheduler:
    """A scheduler with every job in the app database's job store (replacing old copies)."""
    # Imported here: the app and every other command start without APScheduler.
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    global _app
    _app = app
    scheduler_cls = BlockingScheduler if blocking else BackgroundScheduler
    # The job store reads then deletes unrestorable jobs in one transaction: it writes.
    store = SQLAlchemyJobStore(engine=get_engine(app, writing=True))
    create_job_table(store.jobs_t, get_engine(app, writing=True))
    scheduler: BaseScheduler = scheduler_cls(
        jobstores={"default": store},
        timezone=dt.UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    start = dt.datetime.now(dt.UTC)
    for position, (name, seconds) in enumerate(intervals(app).items()):
        scheduler.add_job(
            f"survey.scheduler:{name}_job",
            "interval",
            seconds=seconds,
            id=name,
            name=name,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            # Catch up at start-up, one step after another, rather than after a full interval.
            next_run_time=start + dt.timedelta(seconds=2 * position),
        )
    # The heartbeat belongs to this process, not to the shared job store: kept in memory,
    # so two schedulers each beat for themselves.
    scheduler.add_jobstore("memory", "local")
    scheduler.add_job(
        heartbeat_job, "interval", jobstore="local", id="heartbeat", name="heartbeat",
        seconds=int(app.config.get("SCHEDULER_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS)),
        next_run_time=start, coalesce=True, max_instances=1,
    )
    return scheduler
