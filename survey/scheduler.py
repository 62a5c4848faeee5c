"""APScheduler wiring: five jobs that call the invitation and outbox services.

The job store is the application database (SQLAlchemyJobStore on the app's engine). Jobs are
stored by reference ("survey.scheduler:open_due_job") and find the app through this module,
because a Flask app cannot be pickled into the job store. Every job opens its own session.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from survey.db import get_engine, get_sessionmaker, session_scope, utcnow
from survey.mail import MailSettings
from survey.services import invitations, outbox

log = logging.getLogger(__name__)

# Seconds between runs of each job, in the order one dispatch pass runs them.
JOB_INTERVALS: dict[str, int] = {
    "materialise": 600,
    "open_due": 60,
    "reminders": 300,
    "expire": 600,
    "deliver": 30,
}

_app: Flask | None = None


@dataclass
class PassReport:
    """What one pass of every step did."""

    materialised: int = 0
    opened: int = 0
    reminded: int = 0
    expired: int = 0
    delivery: outbox.DeliveryReport = field(default_factory=outbox.DeliveryReport)

    def lines(self) -> list[str]:
        """The counts, one per line, for the terminal."""
        d = self.delivery
        return [
            f"invitations created: {self.materialised}",
            f"invitations opened (emails queued): {self.opened}",
            f"reminders queued: {self.reminded}",
            f"invitations expired: {self.expired}",
            f"emails sent: {d.sent}, retrying: {d.retrying}, failed: {d.failed}, "
            f"cancelled: {d.cancelled}, deferred: {d.deferred}",
        ]


def run_step(app: Flask, name: str, now: dt.datetime | None = None) -> int | outbox.DeliveryReport:
    """Run one step in its own session."""
    now = now or utcnow()
    settings = MailSettings.from_config(app.config)
    batch = int(app.config.get("INVITATION_BATCH_SIZE", invitations.BATCH_SIZE))
    # Steps that commit in stages take the session factory; the others commit here, once.
    sessions = get_sessionmaker(app)
    if name == "open_due":
        return invitations.open_due(sessions, settings, now, batch_size=batch)
    if name == "reminders":
        return invitations.queue_reminders(sessions, settings, now, batch_size=batch)
    if name == "deliver":
        return outbox.deliver(
            sessions, settings, now,
            batch_size=int(app.config.get("OUTBOX_BATCH_SIZE", outbox.BATCH_SIZE)),
        )
    with session_scope(app) as db:
        if name == "materialise":
            return invitations.materialise(db, now)
        if name == "expire":
            return invitations.expire(db, now)
    raise ValueError(f"unknown step '{name}'")


def run_pass(app: Flask, now: dt.datetime | None = None) -> PassReport:
    """Run every step once, in order (what `flask dispatch --once` does)."""
    now = now or utcnow()
    report = PassReport()
    counts = {name: run_step(app, name, now) for name in JOB_INTERVALS}
    report.materialised = int(counts["materialise"])  # type: ignore[arg-type]
    report.opened = int(counts["open_due"])  # type: ignore[arg-type]
    report.reminded = int(counts["reminders"])  # type: ignore[arg-type]
    report.expired = int(counts["expire"])  # type: ignore[arg-type]
    delivery = counts["deliver"]
    assert isinstance(delivery, outbox.DeliveryReport)
    report.delivery = delivery
    return report


def _job(name: str) -> Callable[[], None]:
    def run() -> None:
        if _app is None:
            raise RuntimeError("the scheduler's app is not set; use build_scheduler(app)")
        try:
            result = run_step(_app, name)
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
deliver_job = _job("deliver")


def build_scheduler(app: Flask, *, blocking: bool = True) -> BaseScheduler:
    """A scheduler with the five jobs in the app database's job store (replacing old copies)."""
    global _app
    _app = app
    scheduler_cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler: BaseScheduler = scheduler_cls(
        # The job store reads then deletes unrestorable jobs in one transaction: it writes.
        jobstores={"default": SQLAlchemyJobStore(engine=get_engine(app, writing=True))},
        timezone=dt.UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    start = dt.datetime.now(dt.UTC)
    for position, (name, seconds) in enumerate(JOB_INTERVALS.items()):
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
    return scheduler
