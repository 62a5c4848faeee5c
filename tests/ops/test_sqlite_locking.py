"""Writing sessions begin IMMEDIATE on SQLite; read-only ones stay deferred and never wait."""

from __future__ import annotations

import threading
import time

from flask import Flask
from sqlalchemy import func, select, text

from survey import models as m
from survey.db import get_session, get_sessionmaker, request_writes, session_scope, writes_on_get


def _organisation(code: str) -> m.Organisation:
    return m.Organisation(name=f"Trust {code}", code=code)


def _count_organisations(app: Flask) -> int:
    with get_sessionmaker(app)() as db:
        return int(db.scalar(select(func.count()).select_from(m.Organisation)) or 0)


def test_a_write_after_a_read_survives_another_connections_commit(app: Flask) -> None:
    """The old failure: A reads, B commits a write, A writes -> 'database is locked' on SQLite."""
    errors: list[BaseException] = []
    b_done = threading.Event()

    def other_writer() -> None:
        try:
            with session_scope(app) as db:
                db.add(_organisation("B"))
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            b_done.set()

    with session_scope(app) as db:
        db.scalar(select(func.count()).select_from(m.Organisation))  # A's transaction reads first
        writer = threading.Thread(target=other_writer)
        writer.start()
        # Before the fix B commits at once and A's write below fails; now B waits for A.
        b_done.wait(timeout=1)
        db.add(_organisation("A"))
        db.flush()
    writer.join(timeout=30)
    assert not errors, errors
    assert _count_organisations(app) == 2


def test_reading_requests_stay_deferred_and_do_not_wait_for_a_writer(app: Flask) -> None:
    """A GET reads beside an open write transaction instead of queueing behind it."""
    with session_scope(app) as writer:
        writer.add(_organisation("W"))
        writer.flush()  # holds the write lock until the end of the block
        with app.test_request_context("/", method="GET"):
            assert request_writes() is False
            started = time.monotonic()
            assert get_session().scalar(text("SELECT 1")) == 1
            assert time.monotonic() - started < 2


def test_which_sessions_write(app: Flask) -> None:
    """POST and marked GET views write; plain GET, HEAD and OPTIONS read; CLI and jobs write."""

    @app.route("/_ops_plain")
    def plain() -> str:
        return "ok"

    @app.route("/_ops_marked")
    @writes_on_get
    def marked() -> str:
        return "ok"

    seen: dict[tuple[str, str], bool] = {}
    for path, method in [("/_ops_plain", m_) for m_ in ("GET", "HEAD", "OPTIONS", "POST", "DELETE")] + [
        ("/_ops_marked", "GET")
    ]:
        with app.test_request_context(path, method=method):
            seen[(path, method)] = request_writes()
            option = get_session().connection().get_execution_options().get("peerpulse_writing")
            assert bool(option) == seen[(path, method)]
    assert seen == {
        ("/_ops_plain", "GET"): False, ("/_ops_plain", "HEAD"): False,
        ("/_ops_plain", "OPTIONS"): False, ("/_ops_plain", "POST"): True,
        ("/_ops_plain", "DELETE"): True, ("/_ops_marked", "GET"): True,
    }
    # A request with a personal API token records its use, whatever the method.
    with app.test_request_context("/_ops_plain", headers={"Authorization": "Bearer pp_x"}):
        assert request_writes() is True
    with app.test_request_context("/_ops_plain", headers={"Authorization": "Basic eDp5"}):
        assert request_writes() is False
    with app.app_context():
        assert request_writes() is True


def test_views_that_write_on_get_are_marked(app: Flask) -> None:
    """The audited contact view, export, free-text page and API research data, a first page visit and 2FA set-up."""
    marked = {
        rule.rule for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "_peerpulse_writes_on_get", False)
    }
    assert marked == {
        "/r/<token>/page/<int:number>",
        "/r/<token>/page/<int:number>/ahead",
        "/admin/studies/<code>/participants/<pcode>/edit",
        "/research/<code>/export.zip",
        "/research/<code>/free-text",
        "/staff/account/two-factor",
        "/api/v1/studies/<code>/long",
        "/api/v1/studies/<code>/responses/<response>/fhir",
    }
