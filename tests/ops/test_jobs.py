"""Jobs an operator can see: every run recorded, pruned, a heartbeat, the admin home, exit codes."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from survey import models as m
from survey import scheduler as sched
from survey.config import Config, ConfigError
from survey.db import session_scope, utcnow
from survey.services import job_runs
from tests import factories as f
from tests.ops.conftest import open_today

DAY = dt.timedelta(days=1)


def runs(db: Session) -> list[m.JobRun]:
    db.rollback()
    db.expire_all()
    return list(db.scalars(select(m.JobRun).order_by(m.JobRun.id)))


def break_a_study(db: Session) -> str:
    """A study with an unknown time zone: the materialise step fails on it. Its code."""
    study, _people = open_today(1)
    study.timezone = "Nowhere/Atlantis"
    db.commit()
    return study.code


def test_dispatch_records_every_step_with_counts(runner: FlaskCliRunner, db: Session) -> None:
    open_today(2)
    db.commit()
    result = runner.invoke(args=["dispatch", "--once"])
    assert result.exit_code == 0, result.output
    recorded = runs(db)
    assert [r.job for r in recorded] == list(sched.STEP_INTERVALS)
    assert {r.outcome for r in recorded} == {"ok"}
    by_job = {r.job: r for r in recorded}
    assert by_job["materialise"].counts == {"count": 2}
    assert by_job["deliver"].counts["sent"] == 2
    assert all(r.started_at <= r.finished_at and r.runner.startswith("dispatch@") for r in recorded)
    # The pass is a sign of life for readiness, as a scheduler's heartbeat is.
    beat = job_runs.latest_beat(db)
    assert beat is not None and beat.instance.startswith("dispatch@")


def test_dispatch_exits_non_zero_naming_the_failed_step_and_runs_the_rest(
    runner: FlaskCliRunner, db: Session
) -> None:
    code = break_a_study(db)
    result = runner.invoke(args=["dispatch", "--once"])
    assert result.exit_code == 1
    assert (f"step materialise FAILED: InputError: timezone: study {code}: unknown time zone "
            "'Nowhere/Atlantis'") in result.output
    assert "Traceback" not in result.output
    outcomes = {r.job: r.outcome for r in runs(db)}
    # The reminders step reads the same study's time zone; the other steps still ran.
    assert outcomes == {"materialise": "failed", "open_due": "ok", "reminders": "failed",
                        "expire": "ok", "publish": "ok", "deliver": "ok"}
    assert "step reminders FAILED: InputError: timezone" in result.output


def test_scheduled_job_failure_is_recorded_and_the_job_keeps_its_schedule(
    app: Flask, db: Session
) -> None:
    break_a_study(db)
    sched.build_scheduler(app, blocking=False)  # sets the app the job functions use
    sched.materialise_job()  # logs and returns; the scheduler keeps it
    failed = runs(db)[-1]
    assert (failed.job, failed.outcome, failed.runner.split("@")[0]) == (
        "materialise", "failed", "scheduler")
    assert failed.error is not None and failed.error.startswith("InputError: timezone: study")


def test_errors_are_stored_without_sql_parameters() -> None:
    orig = ValueError("duplicate key value\nDETAIL: Key (email)=(ann@example.org) already exists.")
    exc = IntegrityError("INSERT INTO contact (email) VALUES (%(email)s)",
                         {"email": "ann@example.org"}, orig)
    text = job_runs.safe_error(exc)
    assert text == "ValueError: duplicate key value"
    assert len(job_runs.safe_error(RuntimeError("x" * 2000))) == job_runs.ERROR_CHARS


def test_prune_keeps_two_weeks_and_each_jobs_latest_success(app: Flask, db: Session) -> None:
    now = utcnow()
    with session_scope(app) as s:
        for days_ago, job, failed in [(30, "deliver", False), (20, "deliver", False),
                                      (20, "deliver", True), (3, "deliver", True),
                                      (25, "expire", True)]:
            at = now - days_ago * DAY
            job_runs.record(s, job, at, at, error=RuntimeError("boom") if failed else None)
    with session_scope(app) as s:
        assert job_runs.prune(s, now) == 3
    left = [(r.job, r.outcome, round((now - r.started_at) / DAY)) for r in runs(db)]
    assert left == [("deliver", "ok", 20), ("deliver", "failed", 3)]


def test_the_scheduler_beats(make_app: Any, db: Session) -> None:
    app = make_app(SCHEDULER_HEARTBEAT_SECONDS=1)
    scheduler = sched.build_scheduler(app, blocking=False)
    scheduler.start(paused=False)
    try:
        deadline = time.monotonic() + 20
        beats: list[dt.datetime] = []
        while time.monotonic() < deadline and len(set(beats)) < 2:
            db.rollback()
            beat = job_runs.latest_beat(db)
            if beat is not None and beat.instance.startswith("scheduler@"):
                beats.append(beat.beat_at)
            time.sleep(0.3)
    finally:
        scheduler.shutdown(wait=True)
    assert len(set(beats)) >= 2, "the heartbeat was not updated"


def _sign_in_admin(app: Flask, db: Session) -> Any:
    from tests.conftest import StaffLogin

    client = app.test_client()
    user = f.UserFactory(admin=True)
    db.commit()
    assert StaffLogin(client).login(user.email).status_code == 302
    return client


def test_admin_home_shows_last_success_and_flags_repeated_failures(app: Flask, db: Session) -> None:
    now = utcnow()
    with session_scope(app) as s:
        job_runs.record(s, "deliver", now - DAY, now - DAY)
        for minutes in (3, 2, 1):
            at = now - dt.timedelta(minutes=minutes)
            job_runs.record(s, "deliver", at, at, error=RuntimeError("mail server refused"))
        job_runs.record(s, "reminders", now, now, error=RuntimeError("once"))
        job_runs.record(s, "expire", now, now)
    html = _sign_in_admin(app, db).get("/admin/").get_data(as_text=True)
    assert '<th scope="col">Last success</th>' in html
    assert "Attention: 1 job failing" in html
    assert "deliver failed 3 times in a row" in html
    assert "Failing: 3 runs in a row" in html
    assert "RuntimeError: mail server refused" in html
    assert (now - DAY).strftime("%Y-%m-%d %H:%M:%S") in html
    assert "Last run failed" in html  # reminders: one failure is not flagged yet
    assert "No scheduler has run yet" in html


def test_job_status_is_for_admins_only(app: Flask, db: Session) -> None:
    from tests.conftest import StaffLogin

    client = app.test_client()
    user = f.UserFactory()  # a researcher
    db.commit()
    StaffLogin(client).login(user.email)
    assert "Scheduled jobs" not in client.get("/admin/").get_data(as_text=True)


def test_job_intervals_from_the_environment(make_app: Any) -> None:
    config = Config({"PEERPULSE_JOB_INTERVALS": "deliver=5, reminders=60, publish=120"})
    assert config.SCHEDULER_INTERVALS == {"deliver": 5, "reminders": 60, "publish": 120}
    app = make_app(SCHEDULER_INTERVALS=config.SCHEDULER_INTERVALS)
    assert sched.intervals(app)["deliver"] == 5 and sched.intervals(app)["expire"] == 600
    assert sched.intervals(app)["publish"] == 120
    assert sched.intervals(make_app())["publish"] == 300  # the dashboard's publication step
    with pytest.raises(ConfigError, match="'deliver=soon' is not job=seconds"):
        Config({"PEERPULSE_JOB_INTERVALS": "deliver=soon"})
    with pytest.raises(ConfigError, match="unknown jobs delivr"):
        sched.intervals(make_app(SCHEDULER_INTERVALS={"delivr": 5}))


def test_dispatch_without_a_database_names_every_step_and_exits_1(tmp_path: Any) -> None:
    from survey import create_app
    from survey.db import get_engine

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "MAIL_FILE_DIR": str(tmp_path),
                      "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    result = app.test_cli_runner().invoke(args=["dispatch", "--once"])
    get_engine(app).dispose()
    assert result.exit_code == 1
    for step in [*sched.STEP_INTERVALS, "heartbeat"]:
        assert f"step {step} FAILED: OperationalError:" in result.output
    assert "Traceback" not in result.output
