"""Benchmark: enrol N participants, materialise and open one wave, deliver over local SMTP.

    .venv/bin/python bench/dispatch.py                      # SQLite in a temporary file
    .venv/bin/python bench/dispatch.py --database-url postgresql+psycopg://postgres@127.0.0.1/test

With --database-url a fresh database is created beside the one named (PostgreSQL) and
dropped afterwards. Targets: materialise 10,000 invitations in < 5 s; deliver >= 200 messages/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, text

from survey import create_app
from survey import models as m
from survey.db import get_engine, get_sessionmaker, make_engine, session_scope
from survey.messaging.email import MailSettings
from survey.services import enrolment, invitations, migrations, outbox

OPENS = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)  # a Monday, 09:00 London


# The SMTP server runs in its own process (as a real one would), so it does not compete with
# the sender for the GIL; it prints how many messages it accepted when stdin closes.
SMTP_SERVER = """
import sys
from aiosmtpd.controller import Controller

class Counter:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Counter.count += 1
        return "250 OK"

controller = Controller(Counter(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
print(Counter.count, flush=True)
"""


@contextmanager
def smtp_server(port: int) -> Iterator[list[int]]:
    """A local aiosmtpd server in a subprocess; yields a list that receives its final count."""
    proc = subprocess.Popen([sys.executable, "-c", SMTP_SERVER, str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdin is not None
    if proc.stdout.readline().strip() != "ready":
        raise SystemExit("the SMTP server did not start")
    received: list[int] = []
    try:
        yield received
    finally:
        out, _ = proc.communicate("", timeout=60)
        received.append(int(out.strip() or 0))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """A fresh, migrated database: a temporary SQLite file, or a new PostgreSQL database."""
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = f"sqlite:///{Path(tmp) / 'bench.db'}"
            engine = make_engine(fresh)
            migrations.upgrade(engine)
            engine.dispose()
            yield fresh
        return
    base = make_url(url)
    name = f"peerpulse_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base.render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    fresh = base.set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(fresh)
        migrations.upgrade(engine)
        engine.dispose()
        yield fresh
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def timed(label: str, results: dict[str, float], func: Any, *args: Any, **kwargs: Any) -> Any:
    start = time.perf_counter()
    value = func(*args, **kwargs)
    results[label] = time.perf_counter() - start
    return value


def run(url: str, participants: int, deliver: int) -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp, smtp_server(port) as received:
        app = create_app({
            "TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench",
            "BASE_URL": "https://peerpulse.example", "MAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "MAIL_FILE_DIR": tmp,
        })
        settings = MailSettings.from_config(app.config)
        seconds: dict[str, float] = {}
        try:
            with session_scope(app) as db:
                org = m.Organisation(code="BENCH", name="Bench NHS Foundation Trust")
                team = m.Team(organisation=org, code="BENCHTEAM", name="Bench team")
                study = m.Study(code="bench", name="Bench study")
                db.add_all([org, team, study])
                db.add(m.Wave(study=study, index=1, label="Baseline", offset_days=0,
                              window_days=21, reminder_offsets=[3, 7]))
                db.flush()
                rows = [
                    enrolment.EnrolmentRow(None, f"E{i:06d}", f"person{i}@example.org", "",
                                           m.Role.PEER_WORKER, team, dt.date(2026, 1, 5))
                    for i in range(participants)
                ]
                timed("enrol", seconds, enrolment.apply_rows, db, study, rows)
            with session_scope(app) as db:
                made = timed("materialise", seconds, invitations.materialise, db, OPENS)
            sessions = get_sessionmaker(app)
            opened = timed("open", seconds, invitations.open_due, sessions, settings, OPENS)
            report = timed("deliver", seconds, outbox.deliver, sessions, settings, OPENS,
                           batch_size=min(deliver, 500))
            # deliver() empties the whole queue; measure the rate on what it sent.
            sent = report.sent
        finally:
            get_engine(app).dispose()
    backend = make_url(url).get_backend_name()
    print(f"backend: {backend}, participants: {participants}")
    print(f"enrol (upsert) {participants}: {seconds['enrol']:.2f} s")
    print(f"materialise {made} invitations: {seconds['materialise']:.2f} s "
          f"(target < 5 s: {'met' if seconds['materialise'] < 5 else 'MISSED'})")
    print(f"open {opened} invitations (token + email into the outbox): {seconds['open']:.2f} s "
          f"({opened / seconds['open']:.0f}/s)")
    rate = sent / seconds["deliver"]
    print(f"deliver {sent} messages over SMTP (server received {received[0]}): "
          f"{seconds['deliver']:.2f} s = {rate:.0f} messages/s "
          f"(target >= 200/s: {'met' if rate >= 200 else 'MISSED'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL: a fresh database is created beside it")
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--deliver", type=int, default=10_000,
                        help="batch size hint for delivery (all queued messages are sent)")
    args = parser.parse_args()
    with database(args.database_url) as url:
        run(url, args.participants, args.deliver)


if __name__ == "__main__":
    main()
