"""Fixtures for scheduling: a real SMTP server on 127.0.0.1, a PostgreSQL-only app, a study."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import get_sessionmaker
from tests import factories as f
from tests.conftest import app_factory, migrated_pg_database
from tests.scheduling.fake_notify import FakeNotify, NotifyServer

UTC = dt.UTC


def free_port() -> int:
    """A TCP port nothing listens on right now (aiosmtpd cannot use port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what it receives and can refuse on demand."""

    messages: list[EmailMessage] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)  # each accepted message's MAIL FROM
    temporary_failures: int = 0  # answer the next N DATA commands with 451
    rejections: int = 0  # answer the next N DATA commands with 554 (a refusal not about the address)
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.temporary_failures > 0:
                self.temporary_failures -= 1
                return "451 4.3.0 Please try again later"
            if self.rejections > 0:
                self.rejections -= 1
                return "554 5.7.1 Message content rejected"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            self.messages.append(message)
            self.senders.append(envelope.mail_from)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages received for one address."""
        return [msg for msg in self.messages if msg["To"] == address]


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that can be stopped and started again on its port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = Recorder()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running SMTP server on a free port."""
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stopped_smtp_server() -> Iterator[SmtpServer]:
    """An SMTP server on a free port that is not running yet (start it in the test)."""
    server = SmtpServer(free_port())
    yield server
    server.stop()


def smtp_config(server: SmtpServer) -> dict[str, Any]:
    """App settings that send through the test SMTP server."""
    return {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": server.port,
            "SMTP_TIMEOUT": 5.0, "MAIL_FROM": "PeerPulse study team <study@peerpulse.test>"}


# A Monday in winter (GMT): 09:00 London is 09:00 UTC.
ANCHOR = dt.date(2026, 1, 5)
OPENS = dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def make_study(n_people: int = 3, *, reminders: list[int] | None = None, waves: int = 1,
               anchor: dt.date = ANCHOR, **study_kwargs: Any) -> tuple[m.Study, list[m.Participant]]:
    """A study with waves every 90 days and n active participants (anchor date ANCHOR)."""
    study = f.StudyFactory(**study_kwargs)
    team = f.TeamFactory()
    for index in range(1, waves + 1):
        f.WaveFactory(study=study, index=index, offset_days=(index - 1) * 90, window_days=21,
                      reminder_offsets=[3, 7] if reminders is None else reminders)
    people = [f.ParticipantFactory(study=study, team=team, anchor_date=anchor)
              for _ in range(n_people)]
    return study, people


# --- PostgreSQL only -------------------------------------------------------------------------

Staged = Callable[..., Any]


@pytest.fixture
def staged(app: Flask, db: Session) -> Staged:
    """Run a service that commits in stages (it takes the session factory) beside the test's `db`.

    The test's session commits first (its work becomes visible; SQLite has one writer at a
    time) and afterwards starts afresh, so it reads what the service committed.
    """

    def run(service: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        db.commit()
        result = service(get_sessionmaker(app), *args, **kwargs)
        db.commit()
        db.expire_all()
        return result

    return run


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh migrated PostgreSQL database; skipped only outside CI when none is configured."""
    yield from migrated_pg_database()


@pytest.fixture
def make_pg_app(pg_database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build apps (one engine each, like separate processes) on the PostgreSQL database."""
    yield from app_factory(pg_database_url, tmp_path)


@pytest.fixture(autouse=True)
def _no_stray_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read a developer's real mail settings."""
    for key in list(os.environ):
        if key.startswith(("SMTP_", "MAIL_", "SMS_", "NOTIFY_")):
            monkeypatch.delenv(key)


@pytest.fixture
def notify() -> Iterator[FakeNotify]:
    """A running fake of GOV.UK Notify's API on a free local port."""
    server = NotifyServer()
    server.start()
    yield server.fake
    server.stop()
