"""Benchmark: a 12-item survey page against a bare Flask page, both under gunicorn on PostgreSQL.

Usage (from the repository root)::

    .venv/bin/python bench/pages.py [--duration 10] [--rounds 2] [--connections 4]

It creates its own PostgreSQL database beside ``--database-url`` (default: the local
``test`` database), migrates it and enrols one consented peer worker with a started
response, whose first page has 12 items (72 radio buttons, two already answered). It then
serves, in turn, a bare Flask app (one route returning a short page) and PeerPulse, each with
gunicorn (2 sync workers) on a free loopback port, and measures each with ``wrk`` for a
fixed time, alternating them ``--rounds`` times (the best rate of each is kept, since the
machine is shared). CSRF and the rate limiter stay on (with limits high enough not to bite),
and wrk keeps no cookies, so every survey request also makes a CSRF token and a session
cookie, as a first visit does. Prints both rates and their ratio; the target is a survey
page at no less than 15% of the bare page's throughput in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from flask import Flask
from sqlalchemy import make_url, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 0.15
WORKERS = 2
BENCH_INSTRUMENT = "bench_twelve"
PAGE_ITEMS = 12
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_SECRET_KEY = "bench-only-secret-key"  # nosec B105 - a throwaway database


def bare_app() -> Flask:
    """The yardstick: a Flask app with one route that returns a short HTML page."""
    app = Flask("bare")

    @app.get("/")
    def hello() -> str:
        return "<!doctype html><title>Hello</title><p>Hello</p>"

    return app


def survey_app() -> Flask:
    """PeerPulse on the bench database, reading instruments from the bench's directory."""
    import instruments.loader
    from survey import create_app

    # The shipped questionnaires have no 12-item page; the bench's copy of one does.
    instruments.loader.INSTRUMENT_DIR = Path(os.environ["BENCH_INSTRUMENT_DIR"])
    return create_app({
        "DATABASE_URL": os.environ["BENCH_DATABASE_URL"],
        "SECRET_KEY": BENCH_SECRET_KEY,
        "RATELIMIT_RESPONDENT": "100000000 per minute",
        "RATELIMIT_LINK_GUESS": "100000000 per minute",
    })


def write_instruments(directory: Path) -> None:
    """The peer worker questionnaire with its first two scales merged into one 12-item page."""
    data = yaml.safe_load((ROOT / "instruments" / "peer_worker_v1.yaml").read_text())
    first, second = data["scales"][0]["id"], data["scales"][1]["id"]
    data["id"] = BENCH_INSTRUMENT
    data["scales"] = [s for s in data["scales"] if s["id"] != second]
    for item in data["items"]:
        if item["scale"] == second:
            item["scale"] = first
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{BENCH_INSTRUMENT}_v1.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    shutil.copy(ROOT / "instruments" / "themes.yaml", directory / "themes.yaml")


def seed(url: str) -> str:
    """Migrate, enrol one consented peer worker with a started response; return the link path."""
    from sqlalchemy.orm import Session

    import instruments.loader
    from survey import models as m
    from survey.db import make_engine, utcnow
    from survey.services import migrations
    from survey.services.responses import questionnaire, save_page, start_or_resume
    from survey.services.tokens import issue_token

    instruments.loader.INSTRUMENT_DIR = Path(os.environ["BENCH_INSTRUMENT_DIR"])
    engine = make_engine(url)
    migrations.upgrade(engine)

    now = utcnow()
    with Session(engine) as db:
        trust = m.Organisation(code="BENCH", name="Bench NHS Trust")
        team = m.Team(organisation=trust, code="BT1", name="Bench team", service_type="community")
        study = m.Study(code="BENCH", name="Bench study", consent_version="1")
        db.add(m.StudyInstrument(study=study, role=m.Role.PEER_WORKER,
                                 instrument_id=BENCH_INSTRUMENT, instrument_version=1))
        wave = m.Wave(study=study, index=1, label="Baseline", offset_days=0, window_days=365)
        person = m.Participant(
            study=study, code="BENCH0001", team=team, role=m.Role.PEER_WORKER,
            anchor_date=now.date(), consent_decision=m.ConsentDecision.GIVEN, consent_at=now,
            consent_version="1",
        )
        invitation = m.Invitation(
            participant=person, wave=wave, status=m.InvitationStatus.SENT, sent_at=now,
            opens_at=now - dt.timedelta(days=1), closes_at=now + dt.timedelta(days=300),
        )
        db.add_all([trust, team, study, wave, person, invitation])
        db.flush()
        token = issue_token(db, invitation)
        response = start_or_resume(db, invitation)
        plan = questionnaire(invitation, response)
        page = plan.page(1)
        if len(page.items) != PAGE_ITEMS:
            raise SystemExit(f"the bench page has {len(page.items)} items, not {PAGE_ITEMS}")
        # Two answers already given, so the page is shown pre-filled, as when going back to it.
        save_page(db, response, plan, 1, {page.items[0].id: 4, page.items[1].id: None})
        db.commit()
    engine.dispose()
    return f"/r/{token}/page/1"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(url: str, timeout: float = 60.0) -> None:
    """Poll the URL until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer 200 within {timeout:.0f} s")


class Gunicorn:
    """A gunicorn serving `app_spec` on a free loopback port while the block runs."""

    def __init__(self, app_spec: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.app_spec = app_spec
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen(  # nosec B603 - fixed arguments
            [str(gunicorn), "--workers", str(WORKERS), "--bind", f"127.0.0.1:{self.port}",
             "--pythonpath", str(ROOT / "bench"), "--log-level", "warning", self.app_spec],
            env=self.env, cwd=ROOT, start_new_session=True,
        )
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def run_wrk(url: str, duration: int, connections: int) -> tuple[float, int]:
    """Requests per second over `duration` seconds, and how many; stop if any was not a 200."""
    out = subprocess.run(  # nosec B603 - fixed arguments
        ["wrk", "-t", "1", "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s", url],
        capture_output=True, text=True, check=True, timeout=duration + 60,
    ).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if bad or errors:
        raise SystemExit(f"wrk saw failures on {url}:\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    if rate is None or count is None:
        raise SystemExit(f"no rate in wrk's output:\n{out}")
    return float(rate.group(1)), int(count.group(1))


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used so far (Linux /proc)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # it ended: its time is not counted
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def server_pids(server: Gunicorn, database: str) -> list[int]:
    """The gunicorn workers and the database's server processes serving them."""
    assert server.proc is not None
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text().split()
    with ADMIN_ENGINE[0].connect() as conn:
        backends = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"),
            {"db": database},
        ).scalars().all()
    return [int(pid) for pid in children] + list(backends)


# The engine that created the bench database (set in main), to find its server processes.
ADMIN_ENGINE: list[Any] = []


@dataclass
class Measured:
    """The best rate seen for one app, and the server CPU per request in that run."""

    rate: float = 0.0
    cpu_ms: float = 0.0


def measure(spec: str, path: str, env: dict[str, str], args: argparse.Namespace, best: Measured) -> None:
    """Serve one app, warm it up, measure wrk's rate on `path`; keep the best run in `best`.

    Also the CPU time the workers and their database processes used per request: unlike the
    rate, it hardly changes when other work shares the machine.
    """
    with Gunicorn(spec, env) as server:
        url = f"http://127.0.0.1:{server.port}{path}"
        wait_until_up(url)
        run_wrk(url, 2, args.connections)  # warm up both workers (imports, caches, pools)
        pids = server_pids(server, make_url(env["DATABASE_URL"]).database or "")
        before = cpu_seconds(pids)
        rate, count = run_wrk(url, args.duration, args.connections)
        cpu_ms = (cpu_seconds(pids) - before) / count * 1000
    if rate > best.rate:
        best.rate, best.cpu_ms = rate, cpu_ms


def create_database(base_url: str) -> tuple[str, Any]:
    """Create an empty, uniquely named database beside `base_url`'s; its URL and admin engine."""
    from survey.db import make_engine

    url = make_url(base_url)
    name = f"peerpulse_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url.render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), admin


def main() -> int:
    """Set up, measure both apps in alternation, print the rates and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="measurements per app (best kept)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB),
                        help="PostgreSQL database beside which the bench database is created")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("error: wrk is not on PATH (apt-get install wrk)", file=sys.stderr)
        return 2
    url, admin = create_database(args.database_url)
    ADMIN_ENGINE.append(admin)
    try:
        with tempfile.TemporaryDirectory(prefix="peerpulse-bench-") as tmp:
            # gunicorn.conf.py checks the configuration from the environment before forking.
            env = {**os.environ, "BENCH_DATABASE_URL": url, "DATABASE_URL": url,
                   "SECRET_KEY": BENCH_SECRET_KEY,
                   "BENCH_INSTRUMENT_DIR": str(Path(tmp) / "instruments"),
                   "PEERPULSE_INSTANCE": str(Path(tmp) / "instance")}
            write_instruments(Path(env["BENCH_INSTRUMENT_DIR"]))
            os.environ.update(env)
            survey_path = seed(url)
            bare, survey = Measured(), Measured()
            for _ in range(args.rounds):
                measure("pages:bare_app()", "/", env, args, bare)
                measure("pages:survey_app()", survey_path, env, args, survey)
    finally:
        name = make_url(url).database
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    ratio = survey.rate / bare.rate
    verdict = "met" if ratio >= TARGET else "NOT met"
    print(f"gunicorn {WORKERS} workers, wrk {args.connections} connections, "
          f"{args.duration} s x {args.rounds} rounds (best of each); load average now "
          f"{os.getloadavg()[0]:.1f}")
    print(f"bare Flask page          {bare.rate:9.0f} requests/s   {bare.cpu_ms:6.2f} ms server CPU each")
    print(f"survey page ({PAGE_ITEMS} items)   {survey.rate:9.0f} requests/s   "
          f"{survey.cpu_ms:6.2f} ms server CPU each (workers + PostgreSQL)")
    print(f"ratio                    {ratio:9.1%}   (target >= {TARGET:.0%}: {verdict}); "
          f"CPU ratio {bare.cpu_ms / survey.cpu_ms:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
