"""The scheduler's wiring: jobs in the database job store, `dispatch --once`, `scheduler`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from survey import models as m
from survey import scheduler as sched
from survey.db import get_engine, utcnow
from tests.scheduling.conftest import make_study

ROOT = Path(__file__).resolve().parents[2]


def open_today(n: int) -> None:
    """A study whose first wave opens today and that may send at any hour (real clock)."""
    today = utcnow().astimezone(ZoneInfo("Europe/London")).date()
    make_study(n, anchor=today, send_hour_start=0, send_hour_end=24, send_weekdays_only=False)


def stored_jobs(app: Flask) -> list[str]:
    with get_engine(app).connect() as conn:
        return sorted(conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars())


def test_jobs_live_in_the_app_database_once_each_across_restarts(app: Flask, db: Session) -> None:
    for _restart in range(2):
        scheduler = sched.build_scheduler(app, blocking=False)
        scheduler.start(paused=True)
        try:
            assert stored_jobs(app) == sorted(sched.JOB_INTERVALS)
            job = scheduler.get_job("deliver")
            assert job is not None and job.max_instances == 1 and job.coalesce is True
        finally:
            scheduler.shutdown(wait=False)
    # A job runs the service with its own session and the app it was built with.
    open_today(2)
    db.commit()
    sched.materialise_job()
    sched.open_due_job()
    sched.deliver_job()
    db.expire_all()
    sent = db.scalars(select(m.OutboxMessage.status)).all()
    assert sent == [m.OutboxStatus.SENT, m.OutboxStatus.SENT]


def test_dispatch_once_runs_every_step_and_prints_counts(
    runner: FlaskCliRunner, db: Session, app: Flask
) -> None:
    open_today(2)
    db.commit()
    result = runner.invoke(args=["dispatch", "--once"])
    assert result.exit_code == 0, result.output
    assert "invitations created: 2" in result.output
    assert "invitations opened (emails and texts queued): 2" in result.output
    assert "emails and texts sent: 2, retrying: 0, failed: 0" in result.output
    assert len(list(Path(app.config["MAIL_FILE_DIR"]).glob("*.eml"))) == 2
    again = runner.invoke(args=["dispatch", "--once"])
    assert "invitations created: 0" in again.output and "emails and texts sent: 0," in again.output
    assert runner.invoke(args=["dispatch"]).exit_code == 2


def test_scheduler_command_runs_until_sigterm(app: Flask, tmp_path: Path) -> None:
    env = dict(os.environ, DATABASE_URL=app.config["DATABASE_URL"], FLASK_DEBUG="0",
               SECRET_KEY="test", MAIL_BACKEND="file", MAIL_FILE_DIR=str(tmp_path / "mail"),
               PEERPULSE_INSTANCE=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # blocks until the scheduler has started
        assert first.startswith("Scheduler running (materialise every 600s"), first
        assert stored_jobs(app) == sorted(sched.JOB_INTERVALS)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Scheduler stopped." in out


def test_schedulers_starting_together_on_a_new_database_both_create_the_job_table(
    app: Flask, database_url: str
) -> None:
    """Two schedulers started at once on a new database: APScheduler's own check-then-create
    let one of them die with a duplicate-key error on PostgreSQL (seen in CI)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    from survey.db import make_engine, writing_engine

    with get_engine(app, writing=True).begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))
    # One engine and one table object each, as two processes would have.
    engines = [writing_engine(make_engine(database_url)) for _ in range(4)]
    tables = [SQLAlchemyJobStore(engine=engine).jobs_t for engine in engines]
    barrier = threading.Barrier(len(engines))
    failures: list[BaseException] = []

    def start(index: int) -> None:
        barrier.wait()
        try:
            sched.create_job_table(tables[index], engines[index])
        except BaseException as exc:
            failures.append(exc)

    try:
        threads = [threading.Thread(target=start, args=(i,)) for i in range(len(engines))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        for engine in engines:
            engine.dispose()
    assert failures == []
    assert stored_jobs(app) == []  # the table is there, and empty
