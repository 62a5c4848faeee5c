"""The scale-out topology on loopback: two app servers, two schedulers, one PostgreSQL, one Redis.

Schedulers send the invitations (by SMTP to a local server), people answer through both app
servers in turn, and nothing is sent twice or lost.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from survey import models as m
from survey.db import get_sessionmaker, session_scope
from tests import factories as f
from tests.ops_scale import servers
from tests.ops_scale.respondents import Respondent, assert_all_complete
from tests.scheduling.conftest import SmtpServer

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PEOPLE = 16
LINK = re.compile(r"/r/([A-Za-z0-9_-]{20,})")


def _enrol(app: Flask) -> str:
    """A study open now, sending at any hour, with PEOPLE peer workers; its code."""
    with session_scope(app) as db:
        f.bind(db)
        try:
            study = f.StudyFactory(send_hour_start=0, send_hour_end=24, send_weekdays_only=False)
            f.WaveFactory(study=study, index=1, offset_days=0, window_days=21, reminder_offsets=[])
            team = f.TeamFactory()
            anchor = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
            for _ in range(PEOPLE):
                f.ParticipantFactory(study=study, team=team, anchor_date=anchor, consented=True)
            return str(study.code)
        finally:
            f.bind(None)


def _wait_for_mail(smtp: SmtpServer, count: int, timeout: float) -> None:
    """Wait until the SMTP server has received `count` messages."""
    deadline = time.monotonic() + timeout
    while len(smtp.messages) < count and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(smtp.messages) >= count, f"only {len(smtp.messages)} of {count} invitations arrived"


def test_two_app_servers_and_two_schedulers(pg_url: str, pg_app: Flask, tmp_path: Path) -> None:
    _enrol(pg_app)
    smtp = SmtpServer(servers.free_port())
    smtp.start()
    try:
        with servers.redis_server() as redis_url:
            env = servers.app_environment(
                pg_url, tmp_path, RATELIMIT_STORAGE_URI=redis_url, MAIL_BACKEND="smtp",
                SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port), SMTP_TIMEOUT="5",
            )
            with servers.gunicorns(env, count=2, workers=2) as apps, \
                    servers.schedulers(env, 2, tmp_path / "logs") as scheds:
                started = time.monotonic()
                _wait_for_mail(smtp, PEOPLE, timeout=90)
                print(f"invitations delivered {time.monotonic() - started:.1f} s after start-up")
                tokens = [LINK.search(msg.get_body(("plain",)).get_content()).group(1)  # type: ignore[union-attr]
                          for msg in list(smtp.messages)]
                urls = [server.url for server in apps]
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(lambda token: Respondent(urls, token).finish(), tokens))
                print(f"surveys completed {time.monotonic() - started:.1f} s after start-up")
                time.sleep(2)  # let a late delivery run show any duplicate
                dead = [n for n, process in enumerate(scheds) if process.poll() is not None]
                assert not dead, "a scheduler died:\n" + "\n".join(
                    (tmp_path / "logs" / f"scheduler-{n}.log").read_text()[-3000:] for n in dead)
            logs = [p.read_text() for p in sorted((tmp_path / "logs").glob("*.log"))]
            assert len(logs) == 2 and all("Scheduler running" in text for text in logs)
    finally:
        smtp.stop()

    # Every invitation sent once: one message per person, no Message-ID twice.
    per_recipient = Counter(str(msg["To"]) for msg in smtp.messages)
    assert len(per_recipient) == PEOPLE and set(per_recipient.values()) == {1}
    assert len({str(msg["Message-ID"]) for msg in smtp.messages}) == PEOPLE
    with get_sessionmaker(pg_app)() as db:
        outbox = db.execute(select(m.OutboxMessage.kind, m.OutboxMessage.status)).all()
        assert Counter(outbox) == {("invite", m.OutboxStatus.SENT): PEOPLE}, Counter(outbox)
        assert db.scalar(select(func.count()).select_from(m.LinkToken)) == PEOPLE
    # No answer lost or doubled; every survey scored and complete.
    assert_all_complete(pg_app, tokens)
