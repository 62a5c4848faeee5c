"""commit_after: the one way a view runs a service call (commit, or roll back and re-raise)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from survey import models as m
from survey.db import get_session, get_sessionmaker
from survey.services.audit import record_event
from survey.services.errors import InputError
from survey.web import commit_after


def _events(app: Flask, action: str) -> int:
    """Audit rows with `action`, as another request would see them."""
    with get_sessionmaker(app)() as other:
        return other.scalar(select(func.count()).select_from(m.AuditEvent).where(m.AuditEvent.action == action)) or 0


def _audit_then(outcome: BaseException | None) -> str:
    """A service that audits, then refuses (or fails, or succeeds)."""
    record_event(get_session(), None, "web.test", actor="participant")
    if outcome is not None:
        raise outcome
    return "done"


def test_work_is_committed_when_the_action_returns(app: Flask) -> None:
    with app.test_request_context("/", method="POST"):
        assert commit_after(lambda: _audit_then(None)) == "done"
    assert _events(app, "web.test") == 1


@pytest.mark.parametrize("failure", [InputError({"code": "wrong"}), RuntimeError("boom")])
def test_a_refusal_or_a_failure_leaves_nothing_written(app: Flask, failure: BaseException) -> None:
    with app.test_request_context("/", method="POST"), pytest.raises(type(failure)):
        commit_after(lambda: _audit_then(failure))
    assert _events(app, "web.test") == 0


def test_a_refusal_that_must_be_recorded_is_committed_and_still_reaches_the_view(app: Flask) -> None:
    with app.test_request_context("/", method="POST"), pytest.raises(InputError):
        commit_after(lambda: _audit_then(InputError({"code": "wrong"})), record_refusal=True)
    assert _events(app, "web.test") == 1
    with app.test_request_context("/", method="POST"), pytest.raises(RuntimeError):
        commit_after(lambda: _audit_then(RuntimeError("boom")), record_refusal=True)
    assert _events(app, "web.test") == 1  # only refusals are recorded, never a failure's work
