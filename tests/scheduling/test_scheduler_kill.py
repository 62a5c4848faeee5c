"""A real `flask scheduler` killed with SIGKILL mid-delivery, then restarted: everyone invited once.

Also the setting that makes this testable: OUTBOX_LEASE_SECONDS, read and checked at start-up.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from survey import models as m
from survey.config import Config, ConfigError
from survey.db import get_sessionmaker, session_scope, utcnow
from survey.messaging.email import MailSettings
from survey.scheduler import JOB_INTERVALS
from survey.services import invitations
from tests.ops_scale.servers import ROOT, app_environment
from tests.scheduling.conftest import Recorder, SmtpServer, free_port
from tests.scheduling.test_concurrency import enrol

PEOPLE = 20
REPLY_DELAY = 0.3  # seconds the SMTP server holds each accepted message before its 250 reply
KILL_AFTER = 5  # messages received before the first scheduler is killed
LEASE_SECONDS = 4
BUDGET = 58.0  # seconds for the whole kill-and-restart test
INTERVALS = {**dict.fromkeys(JOB_INTERVALS, 2), "deliver": 1}


class SlowRecorder(Recorder):
    """Takes each message, then waits before answering 250: a kill then leaves it unconfirmed."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(REPLY_DELAY)
        return reply


@pytest.fixture
def slow_smtp() -> Iterator[SmtpServer]:
    """A running SMTP server on a free port whose every 250 reply comes REPLY_DELAY late."""
    server = SmtpServer(free_port())
    server.handler = SlowRecorder()
    server.start()
    yield server
    server.stop()


class Schedulers:
    """`flask --app wsgi scheduler` processes, each in its own process group, all gone at the end."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        with open(self.logs / f"scheduler-{len(self.started) + 1}.log", "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"], cwd=ROOT,
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.started.append(process)
        return process

    def log(self, process: subprocess.Popen[bytes]) -> str:
        """The end of a process's output, for failure messages."""
        number = self.started.index(process) + 1
        return (self.logs / f"scheduler-{number}.log").read_text(errors="replace")[-3000:]

    def kill_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def wait_until(check: Callable[[], bool], what: str, timeout: float,
               process: subprocess.Popen[bytes], schedulers: Schedulers) -> None:
    """Poll until check() holds; fail (with the scheduler's output) on timeout or if it exits."""
    deadline = time.monotonic() + max(timeout, 0.0)
    while time.monotonic() < deadline:
        if check():
            return
        if process.poll() is not None:
            pytest.fail(f"the scheduler exited ({process.returncode}) before {what}:\n"
                        f"{schedulers.log(process)}")
        time.sleep(0.02)
    pytest.fail(f"waited {timeout:.0f} s in vain for {what}:\n{schedulers.log(process)}")


def sent_count(app: Flask) -> int:
    with session_scope(app) as db:
        return int(db.scalar(select(func.count(m.OutboxMessage.id))
                             .where(m.OutboxMessage.status == m.OutboxStatus.SENT)) or 0)


@pytest.mark.slow
def test_scheduler_killed_mid_delivery_then_restarted_sends_each_invitation_once(
    make_app: Callable[..., Flask], database_url: str, slow_smtp: SmtpServer, tmp_path: Path
) -> None:
    """SIGKILL the scheduler while it delivers; a second one delivers the rest after the lease.

    The bound: a scheduler process sends one message at a time (the deliver job runs with
    max_instances=1 and outbox.deliver sends its claimed batch one by one, committing each
    message as sent right after the server's 250). So at the kill at most one message of the
    batch being sent can have reached the server without its `sent` commit; only that message
    is sent again after restart, with the same Message-ID. The server here waits between
    taking a message and confirming it, so the kill usually falls in that gap and the resend
    is usually seen. Everything else goes out exactly once, once the 4 s lease the dead
    scheduler held has run out (with the default 5 minutes nothing more would be sent here).
    """
    started = time.monotonic()
    app = make_app()
    day = utcnow().date()
    emails = enrol(app, PEOPLE, reminders=[], anchor=day - dt.timedelta(days=1),
                   send_hour_start=0, send_hour_end=24, send_weekdays_only=False)
    with session_scope(app) as db:
        invitations.materialise(db)
    assert invitations.open_due(get_sessionmaker(app), MailSettings.from_config(app.config)) == PEOPLE
    assert sent_count(app) == 0

    env = app_environment(
        database_url, tmp_path, MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(slow_smtp.port), MAIL_FROM="PeerPulse study team <study@peerpulse.test>",
        PEERPULSE_JOB_INTERVALS=",".join(f"{job}={s}" for job, s in INTERVALS.items()),
        PEERPULSE_HEARTBEAT_SECONDS="1", OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS),
    )
    schedulers = Schedulers(env, tmp_path)

    def left() -> float:
        return BUDGET - (time.monotonic() - started)

    try:
        first = schedulers.start()
        wait_until(lambda: len(slow_smtp.messages) >= KILL_AFTER, f"{KILL_AFTER} emails received",
                   min(35.0, left()), first, schedulers)
        os.killpg(first.pid, signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
        received_before = [str(msg["Message-ID"]) for msg in slow_smtp.messages]
        sent_before = sent_count(app)
        assert 0 < len(received_before) < PEOPLE
        # One message at a time: at most the last one received is unconfirmed in the database.
        assert len(received_before) - sent_before in (0, 1)
        unconfirmed = received_before[sent_before:]

        second = schedulers.start()
        wait_until(lambda: sent_count(app) == PEOPLE, "every outbox row sent", min(35.0, left()),
                   second, schedulers)
        second.send_signal(signal.SIGTERM)
        assert second.wait(max(min(10.0, left()), 1.0)) == 0, schedulers.log(second)
    finally:
        schedulers.kill_all()

    # Every participant got their invitation; a copy, if any, is the unconfirmed message's,
    # carrying the same Message-ID (one Message-ID per recipient).
    messages = slow_smtp.messages
    ids = Counter(str(msg["Message-ID"]) for msg in messages)
    assert len(ids) == PEOPLE
    assert {message_id for message_id, n in ids.items() if n > 1} == set(unconfirmed)
    assert max(ids.values()) <= 2
    assert len(messages) == PEOPLE + len(unconfirmed)
    per_recipient = {to: {str(msg["Message-ID"]) for msg in slow_smtp.handler.to(to)} for to in emails}
    assert {to: len(got) for to, got in per_recipient.items()} == dict.fromkeys(emails, 1)
    assert {str(msg["To"]) for msg in messages} == set(emails)

    with session_scope(app) as db:
        # One outbox row per invitation, sent, with one attempt on record (the killed send was
        # never recorded, so its resend is the first attempt the database knows of).
        rows = db.execute(select(m.OutboxMessage.invitation_id, m.OutboxMessage.dedupe_key,
                                 m.OutboxMessage.status, m.OutboxMessage.attempts)).all()
        assert len(rows) == PEOPLE
        assert len({row.invitation_id for row in rows}) == PEOPLE
        assert len({row.dedupe_key for row in rows}) == PEOPLE
        assert {(row.status, row.attempts) for row in rows} == {(m.OutboxStatus.SENT, 1)}
        # The second scheduler's every job run went well, and its deliveries are the rest.
        runs = db.execute(select(m.JobRun.job, m.JobRun.outcome, m.JobRun.counts, m.JobRun.error)
                          .where(m.JobRun.runner.endswith(f":{second.pid}"))).all()
    assert [(run.job, run.error) for run in runs if run.outcome != "ok"] == []
    assert {run.job for run in runs} <= set(JOB_INTERVALS)
    assert sum(run.counts["sent"] for run in runs if run.job == "deliver") == PEOPLE - sent_before
    elapsed = time.monotonic() - started
    print(f"kill-and-restart on {database_url.split(':')[0]}: {elapsed:.1f} s, "
          f"{len(received_before)} received before the kill, {len(unconfirmed)} resent")
    assert elapsed < 60


def test_lease_setting_default_and_value() -> None:
    assert Config({}).OUTBOX_LEASE_SECONDS == 300
    assert Config({"OUTBOX_LEASE_SECONDS": "4"}).OUTBOX_LEASE_SECONDS == 4


@pytest.mark.parametrize("raw", ["0", "-5", "4.5", "five minutes"])
def test_lease_setting_must_be_a_positive_whole_number(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Config({"OUTBOX_LEASE_SECONDS": raw})
    assert str(caught.value) == f"OUTBOX_LEASE_SECONDS must be a positive whole number, not '{raw}'"
