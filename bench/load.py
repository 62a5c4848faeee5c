"""Load benchmark: simulated respondents (and a few staff) against gunicorn + PostgreSQL.

    .venv/bin/python bench/load.py                 # target run: 300 respondents, think time
    .venv/bin/python bench/load.py --saturation    # no think time: completed surveys per second
    .venv/bin/python bench/load.py --quick         # a small, bounded run (make bench)

It creates its own PostgreSQL database beside --database-url, enrols the respondents, opens
their invitations through the invitation service and reads each personal link from the
queued email (tokens are stored only hashed), starts gunicorn on a free loopback port and
runs locust headless in this process. Every respondent comes from the same address (a trust's
shared internet address): they open their link, consent, answer every page and finish.
It prints requests/s and p50/p95/p99 per endpoint, then checks the database.

Targets (2 cores): 300 respondents complete within 10 minutes with 0 errors and survey pages
at p95 < 200 ms; saturation >= 14 completed surveys/s.
"""

from __future__ import annotations

# locust patches the standard library with gevent: it must be imported first.
from locust import FastHttpUser, events, task  # isort: skip
from locust.env import Environment  # isort: skip
from locust.exception import StopUser  # isort: skip

import argparse
import datetime as dt
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any, ClassVar

import gevent
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dispatch import database, free_port

from instruments import load_instrument
from survey import create_app
from survey import models as m
from survey.db import get_engine, get_sessionmaker, session_scope, utcnow
from survey.messaging.email import MailSettings
from survey.services import enrolment, invitations

ROOT = Path(__file__).resolve().parents[1]
PEER = load_instrument("peer_worker", 1)
PAGES = PEER.pages(first_wave=True)
LINK = re.compile(r"/r/([A-Za-z0-9_-]{20,})")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
STAFF_PASSWORD = "bench-staff-password-123"


def page_answers(number: int) -> dict[str, str]:
    """Every item of a page answered."""
    return {item.id: str(1 + (len(item.id) + number) % 5) for item in PAGES[number - 1].items}


def set_up(url: str, respondents: int, staff: int) -> tuple[list[str], list[str], str]:
    """Enrol respondents, open their invitations; return their links, staff emails and trust code."""
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench",
                      "BASE_URL": "http://bench.invalid", "MAIL_BACKEND": "file",
                      "MAIL_FILE_DIR": tempfile.mkdtemp()})
    settings = MailSettings.from_config(app.config)
    now = utcnow()
    try:
        with session_scope(app) as db:
            org = m.Organisation(code="LOAD", name="Load NHS Foundation Trust")
            teams = [m.Team(organisation=org, code=f"LOAD{i}", name=f"Team {i}") for i in range(6)]
            study = m.Study(code="load", name="Load study", send_hour_start=0, send_hour_end=24,
                            send_weekdays_only=False)
            db.add_all([org, *teams, study])
            db.add(m.Wave(study=study, index=1, label="Baseline", offset_days=0, window_days=21,
                          reminder_offsets=[]))
            for role, instrument in ((m.Role.PEER_WORKER, "peer_worker"), (m.Role.COLLEAGUE, "colleague")):
                db.add(m.StudyInstrument(study=study, role=role, instrument_id=instrument,
                                         instrument_version=1))
            db.flush()
            anchor = now.date() - dt.timedelta(days=1)
            rows = [enrolment.EnrolmentRow(None, f"L{i:06d}", f"load{i}@example.org", "",
                                           m.Role.PEER_WORKER, teams[i % len(teams)], anchor)
                    for i in range(respondents)]
            enrolment.apply_rows(db, study, rows)
            emails = []
            for i in range(staff):
                user = m.User(email=f"monitor{i}@example.org", role=m.StaffRole.TRUST_MONITOR,
                              organisation=org)
                user.set_password(STAFF_PASSWORD)
                db.add(user)
                emails.append(user.email)
        with session_scope(app) as db:
            invitations.materialise(db, now)
        # Opening commits a batch at a time, so it takes the session factory (the services' contract).
        invitations.open_due(get_sessionmaker(app, writing=True), settings, now, batch_size=1000)
        # "Open the invitation": the personal link is in the queued email, nowhere else.
        with session_scope(app) as db:
            bodies = db.scalars(select(m.OutboxMessage.body_text)).all()
        tokens = [match.group(1) for body in bodies if (match := LINK.search(body))]
        if len(tokens) != respondents:
            raise SystemExit(f"expected {respondents} links, found {len(tokens)}")
        return tokens, emails, "LOAD"
    finally:
        get_engine(app).dispose()


class Shared:
    """What the simulated users share: links still to answer, timings, completed surveys."""

    tokens: ClassVar[deque[str]] = deque()
    staff: ClassVar[deque[str]] = deque()
    trust = "LOAD"
    think = (0.0, 0.0)
    started: ClassVar[list[str]] = []
    completed: ClassVar[list[tuple[str, float]]] = []
    failures: ClassVar[list[str]] = []


def _think() -> None:
    """Pause like a person reading (none in the saturation run)."""
    low, high = Shared.think
    if high > 0:
        gevent.sleep(random.uniform(low, high))


class Respondent(FastHttpUser):
    """One person after another: open the link, consent, answer every page, see the thanks page."""

    weight = 20

    def _expect(self, method: str, path: str, name: str, status: int, **kwargs: Any) -> Any:
        with self.client.request(method, path, name=name, allow_redirects=False, catch_response=True,
                                 **kwargs) as response:
            if response.status_code != status:
                response.failure(f"{response.status_code} (expected {status})")
                Shared.failures.append(f"{method} {name}: {response.status_code}")
                raise StopUser()
            return response

    def _csrf(self, response: Any) -> str:
        match = CSRF.search(response.text or "")
        if not match:
            Shared.failures.append("no CSRF token")
            raise StopUser()
        return match.group(1)

    @task
    def answer_survey(self) -> None:
        """Answer one whole survey with the next unused link."""
        if not Shared.tokens:
            raise StopUser()
        token = Shared.tokens.popleft()
        Shared.started.append(token)
        self.client.cookiejar.clear()
        link = f"/r/{token}"
        self._expect("GET", link, "/r/[token]", 303)
        shown = self._expect("GET", f"{link}/consent", "/r/[token]/consent", 200)
        _think()
        self._expect("POST", f"{link}/consent", "/r/[token]/consent", 303,
                     data={"csrf_token": self._csrf(shown), "decision": "yes"})
        for number in range(1, len(PAGES) + 1):
            name = f"/r/[token]/page/{number}"
            shown = self._expect("GET", f"{link}/page/{number}", name, 200)
            _think()
            self._expect("POST", f"{link}/page/{number}", name, 303,
                         data={"csrf_token": self._csrf(shown), **page_answers(number)})
        self._expect("GET", f"{link}/thanks", "/r/[token]/thanks", 200)
        Shared.completed.append((token, time.monotonic()))


class Staff(FastHttpUser):
    """A trust monitor signed in, reloading the trust dashboard now and then."""

    weight = 1
    fixed_count = 0  # set from --staff

    def on_start(self) -> None:
        email = Shared.staff.popleft() if Shared.staff else "monitor0@example.org"
        shown = self.client.get("/staff/login", name="/staff/login")
        match = CSRF.search(shown.text or "")
        data = {"email": email, "password": STAFF_PASSWORD, "csrf_token": match.group(1) if match else ""}
        with self.client.post("/staff/login", data=data, name="/staff/login", allow_redirects=False,
                              catch_response=True) as response:
            if response.status_code != 302:
                response.failure(f"sign-in answered {response.status_code}")

    @task
    def dashboard(self) -> None:
        self.client.get(f"/dashboard/{Shared.trust}", name="/dashboard/[trust]")
        gevent.sleep(random.uniform(2, 5))


def gunicorn(url: str, workers: int, log: Path) -> subprocess.Popen[bytes]:
    """Start gunicorn on a free loopback port (returns once it answers)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret", "BASE_URL": "http://bench.invalid",
           "MAIL_BACKEND": "file", "MAIL_FILE_DIR": tempfile.mkdtemp(), "RATELIMIT_STORAGE_URI": "memory://"}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    process.port = port  # type: ignore[attr-defined]
    import urllib.request

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/staff/login", timeout=2).read()
            return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {log}") from None
            time.sleep(0.5)
    process.kill()
    raise SystemExit("gunicorn did not start within 120 s")


def run_locust(host: str, users: int, spawn_rate: float, staff: int, limit: float) -> tuple[Any, float]:
    """Run the users until every link is used (or the time limit); returns stats and seconds."""
    Staff.fixed_count = staff
    env = Environment(user_classes=[Respondent, Staff], host=host, events=events)
    runner = env.create_local_runner()
    started = time.monotonic()
    runner.start(users + staff, spawn_rate=spawn_rate)
    total = len(Shared.tokens)
    while time.monotonic() - started < limit:
        gevent.sleep(0.5)
        if not Shared.tokens and runner.user_count <= staff:
            break
        if len(Shared.completed) + len(Shared.failures) >= total and not Shared.tokens:
            break
    elapsed = time.monotonic() - started
    runner.quit()
    return env.stats, elapsed


def report(stats: Any, elapsed: float) -> float:
    """Print requests/s and percentiles per endpoint; return the worst survey-page p95 (ms)."""
    print(f"{'endpoint':34} {'reqs':>6} {'fails':>5} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}  (ms)")
    worst_page_p95 = 0.0
    for (name, method), entry in sorted(stats.entries.items()):
        p95 = entry.get_response_time_percentile(0.95)
        if name.startswith("/r/"):
            worst_page_p95 = max(worst_page_p95, p95)
        print(f"{method + ' ' + name:34} {entry.num_requests:6d} {entry.num_failures:5d} "
              f"{entry.num_requests / elapsed:7.1f} {entry.get_response_time_percentile(0.5):6.0f} "
              f"{p95:6.0f} {entry.get_response_time_percentile(0.99):6.0f}")
    total = stats.total
    print(f"{'all':34} {total.num_requests:6d} {total.num_failures:5d} {total.num_requests / elapsed:7.1f} "
          f"{total.get_response_time_percentile(0.5):6.0f} {total.get_response_time_percentile(0.95):6.0f} "
          f"{total.get_response_time_percentile(0.99):6.0f}")
    return worst_page_p95


def check_database(url: str, completed: list[str], started: list[str]) -> list[str]:
    """Every completed respondent's answers present exactly once, scored; no orphans anywhere.

    People stopped mid-survey by the time limit have an unsubmitted response: not an orphan.
    """
    from survey.services.tokens import hash_token

    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench"})
    problems: list[str] = []
    expected_items = sum(len(page.items) for page in PAGES)
    try:
        with session_scope(app) as db:
            hashes = [hash_token(t) for t in completed]
            invitation_ids = set(db.scalars(
                select(m.LinkToken.invitation_id).where(m.LinkToken.token_hash.in_(hashes))).all())
            if len(invitation_ids) != len(completed):
                problems.append(f"{len(completed)} completed links, {len(invitation_ids)} invitations")
            rows = db.execute(
                select(m.Response.invitation_id, m.Response.id, m.Response.submitted_at)
                .where(m.Response.invitation_id.in_(invitation_ids))).all()
            per_invitation: dict[int, int] = {}
            for invitation_id, _rid, submitted in rows:
                per_invitation[invitation_id] = per_invitation.get(invitation_id, 0) + 1
                if submitted is None:
                    problems.append(f"invitation {invitation_id}: response not submitted")
            if any(n != 1 for n in per_invitation.values()) or len(per_invitation) != len(invitation_ids):
                problems.append("a completed invitation without exactly one response")
            response_ids = [rid for _, rid, _ in rows]
            answers = dict(db.execute(
                select(m.Answer.response_id, func.count()).where(m.Answer.response_id.in_(response_ids))
                .group_by(m.Answer.response_id)).all())
            distinct = dict(db.execute(
                select(m.Answer.response_id, func.count(func.distinct(m.Answer.item_id)))
                .where(m.Answer.response_id.in_(response_ids)).group_by(m.Answer.response_id)).all())
            wrong = [r for r in response_ids
                     if answers.get(r) != expected_items or distinct.get(r) != expected_items]
            if wrong:
                problems.append(f"{len(wrong)} responses without exactly {expected_items} answers, once each")
            scored = set(db.scalars(select(m.ScaleScore.response_id).where(
                m.ScaleScore.response_id.in_(response_ids)).distinct()).all())
            if scored != set(response_ids):
                problems.append(f"{len(set(response_ids) - scored)} completed responses without scores")
            not_completed = db.scalar(select(func.count()).select_from(m.Invitation).where(
                m.Invitation.id.in_(invitation_ids), m.Invitation.status != m.InvitationStatus.COMPLETED))
            if not_completed:
                problems.append(f"{not_completed} finished invitations not marked completed")
            # Orphans: scores of unsubmitted responses, responses without an invitation's token.
            stray_scores = db.scalar(select(func.count()).select_from(m.ScaleScore).join(m.Response)
                                     .where(m.Response.submitted_at.is_(None)))
            if stray_scores:
                problems.append(f"{stray_scores} scale scores on unsubmitted responses")
            opened = set(db.scalars(select(m.LinkToken.invitation_id).where(
                m.LinkToken.token_hash.in_([hash_token(t) for t in started]))).all())
            strays = db.scalar(select(func.count()).select_from(m.Response).where(
                m.Response.invitation_id.not_in(opened) if opened else True))
            if strays:
                problems.append(f"{strays} responses of links no one opened")
    finally:
        get_engine(app).dispose()
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL URL: a fresh database is created beside it and dropped after")
    parser.add_argument("--respondents", type=int, default=None)
    parser.add_argument("--users", type=int, default=None, help="simulated people at once")
    parser.add_argument("--staff", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--saturation", action="store_true",
                        help="no think time: surveys completed per second")
    parser.add_argument("--quick", action="store_true", help="a small bounded run")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds (default: 600)")
    args = parser.parse_args()

    if args.quick:
        respondents, users, think, limit = args.respondents or 40, args.users or 20, (0.1, 0.5), 120.0
    elif args.saturation:
        respondents, users, think, limit = args.respondents or 1500, args.users or 24, (0.0, 0.0), 180.0
    else:
        respondents, users, think, limit = args.respondents or 300, args.users or 100, (2.0, 6.0), 600.0
    limit = args.time_limit or limit
    Shared.think = think
    print(f"mode: {'quick' if args.quick else 'saturation' if args.saturation else 'target'}; "
          f"{respondents} respondents, {users} at once, think {think[0]}-{think[1]} s, "
          f"{args.staff} staff, gunicorn -w {args.workers}, CPUs {os.cpu_count()}, "
          f"load average before {os.getloadavg()[0]:.1f}")
    with database(args.database_url) as url, tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        tokens, staff, trust = set_up(url, respondents, args.staff)
        print(f"set-up: {respondents} enrolled and invited in {time.monotonic() - started:.1f} s")
        Shared.tokens.extend(tokens)
        Shared.staff.extend(staff)
        Shared.trust = trust
        server = gunicorn(url, args.workers, Path(tmp) / "gunicorn.log")
        try:
            stats, elapsed = run_locust(f"http://127.0.0.1:{server.port}", users,  # type: ignore[attr-defined]
                                        spawn_rate=users / 10 if not args.saturation else users,
                                        staff=args.staff, limit=limit)
        finally:
            server.terminate()
            server.wait(30)
        worst_p95 = report(stats, elapsed)
        done = [token for token, _ in Shared.completed]
        print(f"completed surveys: {len(done)} of {respondents} in {elapsed:.1f} s; "
              f"errors: {stats.total.num_failures}; load average after {os.getloadavg()[0]:.1f}")
        if len(Shared.completed) > 10:
            # The sustained rate: between the 10th and the last completion (ramp-up left out).
            times = sorted(t for _, t in Shared.completed)
            rate = (len(times) - 10) / max(times[-1] - times[9], 1e-9)
            print(f"sustained completed surveys/s: {rate:.2f}"
                  + (" (target >= 14/s)" if args.saturation else ""))
        problems = check_database(url, done, Shared.started)
        print(f"stopped mid-survey by the time limit: {len(Shared.started) - len(done)}")
        print("database check: " + ("every completed survey stored once, scored, no orphans"
                                    if not problems else "; ".join(problems)))
        if not args.saturation:
            met = len(done) == respondents and stats.total.num_failures == 0 and elapsed <= 600
            print(f"target (all complete within 10 min, 0 errors, page p95 < 200 ms): "
                  f"{'met' if met and worst_p95 < 200 else 'MISSED'} (worst page p95 {worst_p95:.0f} ms)")
        if problems or Shared.failures:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
