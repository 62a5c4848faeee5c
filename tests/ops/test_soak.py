"""Soak: the real scheduler and a threaded web server on one SQLite file, with respondents.

APScheduler's BackgroundScheduler (thread pool, SQLAlchemyJobStore in the same file) runs
every job each second while simulated respondents consent and answer every page over HTTP.
Afterwards: no job run failed, every due reminder and invitation is in the outbox once and
delivered, and every respondent's answers are stored exactly once.
"""

from __future__ import annotations

import datetime as dt
import http.client
import random
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from instruments import load_instrument
from survey import create_app
from survey import models as m
from survey import scheduler as sched
from survey.db import get_engine, session_scope, utcnow
from survey.services import migrations
from survey.services.tokens import issue_token
from tests import factories as f

pytestmark = pytest.mark.slow

PEER = load_instrument("peer_worker", 1)
PAGES = PEER.pages(first_wave=True)
RESPONDENTS = 12  # consent and answer every page during the soak
REMINDED = 15  # opened ten days ago: one reminder is due
NEW = 15  # enrolled today: their invitation is created, opened and sent during the soak
DEADLINE = 45.0  # seconds; the whole test stays under a minute
DAY = dt.timedelta(days=1)


@pytest.fixture
def soak_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on a migrated SQLite file, every job running each second."""
    url = f"sqlite:///{tmp_path / 'soak.db'}"
    app = create_app({
        "TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "soak", "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False, "BASE_URL": "http://127.0.0.1", "MAIL_BACKEND": "file",
        "MAIL_FILE_DIR": str(tmp_path / "mail"), "SCHEDULER_HEARTBEAT_SECONDS": 1,
        "SCHEDULER_INTERVALS": dict.fromkeys(sched.JOB_INTERVALS, 1),
    })
    migrations.upgrade(get_engine(app))
    yield app
    get_engine(app).dispose()


def populate(app: Flask) -> tuple[list[str], list[int], list[int]]:
    """Respondents' tokens, the invitation ids due a reminder, the new participants' ids."""
    now = utcnow()
    with session_scope(app) as db:
        f.bind(db)
        try:
            study = f.StudyFactory(send_hour_start=0, send_hour_end=24, send_weekdays_only=False)
            wave = f.WaveFactory(study=study, index=1, offset_days=0, window_days=21,
                                 reminder_offsets=[3, 7])
            team = f.TeamFactory()
            tokens = []
            for _ in range(RESPONDENTS):
                invitation = f.InvitationFactory(
                    participant=f.ParticipantFactory(study=study, team=team, anchor_date=now.date()),
                    wave=wave, sent=True, opens_at=now - dt.timedelta(minutes=5))
                tokens.append(issue_token(db, invitation))
            reminded = [
                f.InvitationFactory(
                    participant=f.ParticipantFactory(study=study, team=team,
                                                     anchor_date=(now - 10 * DAY).date()),
                    wave=wave, sent=True, opens_at=now - 10 * DAY, sent_at=now - 10 * DAY)
                for _ in range(REMINDED)
            ]
            new = [f.ParticipantFactory(study=study, team=team, anchor_date=now.date())
                   for _ in range(NEW)]
            db.flush()
            return tokens, [i.id for i in reminded], [p.id for p in new]
        finally:
            f.bind(None)


class Respondent:
    """One person answering over HTTP, as a browser would (no redirects followed)."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.problems: list[str] = []

    def call(self, method: str, path: str, form: dict[str, str] | None, expect: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            body = urllib.parse.urlencode(form) if form is not None else None
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
            conn.request(method, f"/r/{self.token}{path}", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != expect:
                self.problems.append(f"{method} {path}: {response.status}, expected {expect}")
        finally:
            conn.close()

    def run(self) -> None:
        """Consent, then every page (read, then answer), then the thank-you page."""
        try:
            self.call("GET", "", None, 303)
            self.call("GET", "/consent", None, 200)
            self.call("POST", "/consent", {"decision": "yes"}, 303)
            for number, page in enumerate(PAGES, start=1):
                time.sleep(random.uniform(0, 0.05))  # think time
                self.call("GET", f"/page/{number}", None, 200)
                self.call("POST", f"/page/{number}", {page.items[0].id: "4"}, 303)
            self.call("GET", "/thanks", None, 200)
        except Exception as exc:  # reported by the test
            self.problems.append(repr(exc))


def count(db: Any, query: Any) -> int:
    return int(db.scalar(query) or 0)


def test_scheduler_and_web_together_on_one_sqlite_file(soak_app: Flask, tmp_path: Path) -> None:
    started = time.monotonic()
    tokens, reminded, new = populate(soak_app)
    server = make_server("127.0.0.1", 0, soak_app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    scheduler = sched.build_scheduler(soak_app, blocking=False)
    scheduler.start()
    people = [Respondent(server.server_port, token) for token in tokens]
    threads = [threading.Thread(target=person.run) for person in people]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=DEADLINE)
        # Let the scheduler finish: every due reminder and invitation delivered.
        expected_mail = REMINDED + NEW
        while time.monotonic() - started < DEADLINE:
            with session_scope(soak_app) as db:
                sent = count(db, select(func.count()).select_from(m.OutboxMessage)
                             .where(m.OutboxMessage.status == m.OutboxStatus.SENT))
            if sent >= expected_mail:
                break
            time.sleep(0.5)
        time.sleep(1.5)  # a few more runs of every job on a quiet database
    finally:
        scheduler.shutdown(wait=True)
        server.shutdown()
        serving.join(timeout=10)

    with session_scope(soak_app) as db:
        failed = list(db.execute(select(m.JobRun.job, m.JobRun.error)
                                 .where(m.JobRun.outcome == "failed")))
        assert failed == []
    assert all(not thread.is_alive() for thread in threads), "a respondent did not finish in time"
    assert [p.problems for p in people if p.problems] == []
    with session_scope(soak_app) as db:
        ok_jobs = set(db.scalars(select(m.JobRun.job).where(m.JobRun.outcome == "ok")))
        assert ok_jobs == set(sched.JOB_INTERVALS)
        assert db.scalar(select(m.SchedulerHeartbeat)) is not None
        # Every due reminder once; every new participant invited once; all delivered.
        reminders = list(db.scalars(select(m.OutboxMessage.invitation_id)
                                    .where(m.OutboxMessage.kind == "remind")))
        assert sorted(reminders) == sorted(reminded)
        invited = list(db.scalars(
            select(m.Invitation.participant_id).join(
                m.OutboxMessage, m.OutboxMessage.invitation_id == m.Invitation.id)
            .where(m.OutboxMessage.kind == "invite")))
        assert sorted(invited) == sorted(new)
        statuses = set(db.scalars(select(m.OutboxMessage.status)))
        assert statuses == {m.OutboxStatus.SENT}
        assert len(list((tmp_path / "mail").glob("*.eml"))) == REMINDED + NEW
        # Every respondent: consented, one response, each page's answer once, scores once.
        done = select(m.Invitation.id).where(m.Invitation.status == m.InvitationStatus.COMPLETED)
        assert count(db, select(func.count()).select_from(done.subquery())) == RESPONDENTS
        assert count(db, select(func.count()).select_from(m.Response)) == RESPONDENTS
        per_response = list(db.execute(
            select(m.Answer.response_id, func.count(), func.count(func.distinct(m.Answer.item_id)))
            .group_by(m.Answer.response_id)))
        assert len(per_response) == RESPONDENTS
        assert {(n, distinct) for _id, n, distinct in per_response} == {(len(PAGES), len(PAGES))}
        assert count(db, select(func.count()).select_from(m.ScaleScore)) == (
            RESPONDENTS * len(PEER.scales))
        consented = select(func.count()).select_from(m.Participant).where(
            m.Participant.consent_decision == m.ConsentDecision.GIVEN)
        assert count(db, consented) == RESPONDENTS
    assert time.monotonic() - started < 60
