"""Texts exactly once on PostgreSQL across a crash, as for email (see test_concurrency.py)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from survey import models as m
from survey.db import session_scope
from survey.messaging import sms as sms_channel
from survey.messaging.sms import NotifySmsTransport, OutgoingSms
from survey.scheduler import run_pass
from tests import factories as f
from tests.scheduling.conftest import OPENS, make_study
from tests.scheduling.fake_notify import FakeNotify

pytestmark = pytest.mark.postgres

PEOPLE = 60


def enrol_texters(app: Flask, n: int = PEOPLE) -> list[str]:
    """A study whose n participants want texts only; their mobile numbers."""
    with session_scope(app) as db:
        f.bind(db)
        try:
            _study, people = make_study(n)
            numbers = []
            for index, person in enumerate(people):
                assert person.contact is not None
                person.contact.mobile = f"+44791100{index:04d}"
                person.contact.channel = m.Channel.SMS
                numbers.append(person.contact.mobile)
        finally:
            f.bind(None)
    return numbers


def texts_per_number(notify: FakeNotify) -> Counter[str]:
    return Counter(text.phone_number for text in notify.received)


def scalar(app: Flask, query: Any) -> int:
    with session_scope(app) as db:
        return int(db.scalar(query) or 0)


def test_crash_while_opening_then_restart_texts_everyone_once(
    make_pg_app: Callable[..., Flask], notify: FakeNotify, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_pg_app(**notify.config(), INVITATION_BATCH_SIZE=25)
    numbers = enrol_texters(app)
    real_render = sms_channel.render_survey_sms
    calls = {"n": 0}

    def render_then_crash(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 40:  # in the second batch of 25
            raise KeyboardInterrupt
        return real_render(*args, **kwargs)

    monkeypatch.setattr(sms_channel, "render_survey_sms", render_then_crash)
    with pytest.raises(KeyboardInterrupt):
        run_pass(app, OPENS)
    # One whole batch was committed; the second was rolled back whole.
    assert scalar(app, select(func.count(m.OutboxMessage.id))) == 25
    assert notify.received == []
    monkeypatch.setattr(sms_channel, "render_survey_sms", real_render)
    restarted = make_pg_app(**notify.config())
    report = run_pass(restarted, OPENS + dt.timedelta(minutes=1))
    assert (report.opened, report.delivery.sent) == (PEOPLE - 25, PEOPLE)
    assert texts_per_number(notify) == Counter(dict.fromkeys(numbers, 1))


class CrashingNotify(NotifySmsTransport):
    """Notify that dies at the n-th text: before handing it over, or just after its 201."""

    def __init__(self, *args: Any, crash_at: int, after_accept: bool) -> None:
        super().__init__(*args)
        self.crash_at, self.after_accept, self.count = crash_at, after_accept, 0

    def send(self, message: OutgoingSms) -> None:
        self.count += 1
        if self.count == self.crash_at and not self.after_accept:
            raise KeyboardInterrupt
        super().send(message)
        if self.count == self.crash_at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("after_accept", [False, True], ids=["before-send", "after-accept"])
def test_crash_while_texting_then_restart(
    make_pg_app: Callable[..., Flask], notify: FakeNotify, monkeypatch: pytest.MonkeyPatch,
    after_accept: bool,
) -> None:
    app = make_pg_app(**notify.config(), OUTBOX_BATCH_SIZE=20)
    numbers = enrol_texters(app)

    def crashing(settings: Any) -> CrashingNotify:
        return CrashingNotify(settings, crash_at=30, after_accept=after_accept)

    monkeypatch.setattr(sms_channel, "make_sms_transport", crashing)
    with pytest.raises(KeyboardInterrupt):
        run_pass(app, OPENS)
    assert len(notify.received) == (30 if after_accept else 29)
    monkeypatch.undo()
    restarted = make_pg_app(**notify.config())
    # Restarted at once: the dead worker's lease still holds the rest of its batch.
    soon = run_pass(restarted, OPENS + dt.timedelta(minutes=1))
    assert soon.delivery.sent == PEOPLE - 40
    # After the lease (5 minutes) those are sent too.
    later = run_pass(restarted, OPENS + dt.timedelta(minutes=6))
    assert later.delivery.sent == 11
    assert run_pass(restarted, OPENS + dt.timedelta(hours=1)).delivery.sent == 0
    got = texts_per_number(notify)
    if not after_accept:
        assert got == Counter(dict.fromkeys(numbers, 1))
        return
    # The one gap at the provider's boundary, as with SMTP: the text accepted just before the
    # crash goes again, with the same reference, so the copy can be recognised.
    [twice] = [number for number, n in got.items() if n == 2]
    assert sum(got.values()) == PEOPLE + 1
    assert len({text.reference for text in notify.to(twice)}) == 1


def test_two_schedulers_at_once_text_each_person_once(
    make_pg_app: Callable[..., Flask], notify: FakeNotify
) -> None:
    apps = [make_pg_app(**notify.config(), INVITATION_BATCH_SIZE=7, OUTBOX_BATCH_SIZE=5)
            for _ in range(2)]
    numbers = enrol_texters(apps[0])
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(app: Flask) -> None:
        try:
            barrier.wait(timeout=30)
            for _ in range(2):
                run_pass(app, OPENS)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert texts_per_number(notify) == Counter(dict.fromkeys(numbers, 1))
