"""Exactly once on PostgreSQL: two schedulers at the same time, and a crash mid-run."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from survey import models as m
from survey.db import get_engine, get_sessionmaker, session_scope
from survey.messaging import email as email_channel
from survey.messaging.email import MailSettings, OutgoingEmail, SmtpTransport
from survey.scheduler import run_pass
from survey.services import invitations
from tests import factories as f
from tests.scheduling.conftest import OPENS, SmtpServer, make_study, smtp_config

pytestmark = pytest.mark.postgres

DAY = dt.timedelta(days=1)
PEOPLE = 120
SMALL_BATCHES = {"INVITATION_BATCH_SIZE": 7, "OUTBOX_BATCH_SIZE": 5}


def enrol(app: Flask, n: int = PEOPLE, **kwargs: Any) -> list[str]:
    """Create a study with n participants; their email addresses."""
    with session_scope(app) as db:
        f.bind(db)
        try:
            _study, people = make_study(n, **kwargs)
            emails = [p.contact.email for p in people]
        finally:
            f.bind(None)
    return emails


def kinds_per_recipient(messages: list[EmailMessage]) -> Counter[tuple[str, str]]:
    return Counter(
        (str(msg["To"]), "remind" if str(msg["Subject"]).startswith("Reminder") else "invite")
        for msg in messages
    )


def scalar(app: Flask, query: Any) -> int:
    with session_scope(app) as db:
        return int(db.scalar(query) or 0)


def run_together(apps: list[Flask], now: dt.datetime, passes: int = 2) -> None:
    """Run dispatch passes in several 'processes' (own engine each) started at the same moment."""
    barrier = threading.Barrier(len(apps))
    errors: list[BaseException] = []

    def work(app: Flask) -> None:
        try:
            barrier.wait(timeout=30)
            for _ in range(passes):
                run_pass(app, now)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_two_schedulers_at_once_send_every_email_exactly_once(
    make_pg_app: Callable[..., Flask], smtp_server: SmtpServer
) -> None:
    apps = [make_pg_app(**smtp_config(smtp_server), **SMALL_BATCHES) for _ in range(2)]
    emails = enrol(apps[0], reminders=[3, 7])
    for now in (OPENS, OPENS + 3 * DAY, OPENS + 7 * DAY, OPENS + 10 * DAY):
        run_together(apps, now)
    got = kinds_per_recipient(smtp_server.messages)
    assert len(smtp_server.messages) == 3 * PEOPLE
    assert got == Counter({(e, "invite"): 1 for e in emails} | {(e, "remind"): 2 for e in emails})
    assert scalar(apps[0], select(func.count(m.Invitation.id))) == PEOPLE
    assert scalar(apps[0], select(func.count(m.LinkToken.id))) == 3 * PEOPLE
    assert scalar(apps[0], select(func.count(m.OutboxMessage.id))
                  .where(m.OutboxMessage.status == m.OutboxStatus.SENT)) == 3 * PEOPLE


def test_rows_locked_by_another_scheduler_are_skipped_not_waited_for(
    make_pg_app: Callable[..., Flask], smtp_server: SmtpServer
) -> None:
    app = make_pg_app(**smtp_config(smtp_server))
    enrol(app, 20)
    with session_scope(app) as db:
        invitations.materialise(db, OPENS)
    holder = get_sessionmaker(app)()
    try:
        # Another scheduler is in the middle of claiming the first five invitations.
        held = holder.scalars(
            select(m.Invitation.id).order_by(m.Invitation.id).limit(5).with_for_update()
        ).all()
        impatient = sessionmaker(bind=get_engine(app), expire_on_commit=False)

        @event.listens_for(impatient, "after_begin")
        def _no_waiting(_session: Session, _transaction: Any, connection: Connection) -> None:
            connection.exec_driver_sql("SET LOCAL lock_timeout = '3s'")  # waiting would fail the test

        assert invitations.open_due(impatient, MailSettings.from_config(app.config), OPENS) == 15
        with session_scope(app) as db:
            waiting = db.scalars(select(m.Invitation.id).where(
                m.Invitation.status == m.InvitationStatus.SCHEDULED)).all()
        assert sorted(waiting) == sorted(held)
    finally:
        holder.rollback()
        holder.close()
    assert invitations.open_due(get_sessionmaker(app), MailSettings.from_config(app.config), OPENS) == 5


def test_crash_while_opening_then_restart_invites_everyone_once(
    make_pg_app: Callable[..., Flask], smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_pg_app(**smtp_config(smtp_server), INVITATION_BATCH_SIZE=25)
    emails = enrol(app)
    real_render = email_channel.render_survey_email
    calls = {"n": 0}

    def render_then_crash(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 60:  # in the third batch of 25
            raise KeyboardInterrupt  # Ctrl-C / the process dies
        return real_render(*args, **kwargs)

    monkeypatch.setattr(email_channel, "render_survey_email", render_then_crash)
    with pytest.raises(KeyboardInterrupt):
        run_pass(app, OPENS)
    # Two whole batches were committed; the third was rolled back whole.
    assert scalar(app, select(func.count(m.OutboxMessage.id))) == 50
    assert scalar(app, select(func.count(m.LinkToken.id))) == 50
    assert smtp_server.messages == []
    monkeypatch.setattr(email_channel, "render_survey_email", real_render)
    restarted = make_pg_app(**smtp_config(smtp_server))
    report = run_pass(restarted, OPENS + dt.timedelta(minutes=1))
    assert (report.opened, report.delivery.sent) == (PEOPLE - 50, PEOPLE)
    assert kinds_per_recipient(smtp_server.messages) == Counter({(e, "invite"): 1 for e in emails})


class CrashingTransport(SmtpTransport):
    """SMTP that dies at the n-th message: before handing it over, or just after the server's OK."""

    def __init__(self, *args: Any, crash_at: int, after_accept: bool) -> None:
        super().__init__(*args)
        self.crash_at, self.after_accept, self.count = crash_at, after_accept, 0

    def send(self, message: OutgoingEmail) -> None:
        self.count += 1
        if self.count == self.crash_at and not self.after_accept:
            raise KeyboardInterrupt
        super().send(message)
        if self.count == self.crash_at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("after_accept", [False, True], ids=["before-send", "after-accept"])
def test_crash_while_delivering_then_restart(
    make_pg_app: Callable[..., Flask], smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch,
    after_accept: bool,
) -> None:
    app = make_pg_app(**smtp_config(smtp_server), OUTBOX_BATCH_SIZE=20)
    emails = enrol(app)

    def crashing(settings: Any) -> CrashingTransport:
        return CrashingTransport(settings, crash_at=30, after_accept=after_accept)

    monkeypatch.setattr(email_channel, "make_transport", crashing)
    with pytest.raises(KeyboardInterrupt):
        run_pass(app, OPENS)
    delivered_before = len(smtp_server.messages)
    assert delivered_before == (30 if after_accept else 29)
    monkeypatch.undo()
    restarted = make_pg_app(**smtp_config(smtp_server))
    # Restarted at once: the dead worker's lease still holds the rest of its batch.
    soon = run_pass(restarted, OPENS + dt.timedelta(minutes=1))
    assert soon.delivery.sent == PEOPLE - 40  # all but the dead worker's batch of 20
    # After the lease (5 minutes) those are delivered too.
    later = run_pass(restarted, OPENS + dt.timedelta(minutes=6))
    assert later.delivery.sent == 11
    assert run_pass(restarted, OPENS + dt.timedelta(hours=1)).delivery.sent == 0
    got = kinds_per_recipient(smtp_server.messages)
    if not after_accept:
        assert got == Counter({(e, "invite"): 1 for e in emails})
        return
    # A crash between the server's OK and our commit is the one gap at the SMTP boundary:
    # that single message goes again, with the same Message-ID so the copy can be recognised.
    [(twice, _kind)] = [key for key, n in got.items() if n == 2]
    assert sum(got.values()) == PEOPLE + 1
    ids = {str(msg["Message-ID"]) for msg in smtp_server.handler.to(twice)}
    assert len(ids) == 1
