"""Staff sessions on Flask-Login, kept on the server: the session token, the steps between, expiry.

The signed cookie holds the token of a `staff_session` row (survey.services.staff_sessions),
never the account's id. Every request looks it up: a session signed out, idle too long, past
its time limit, or of a deactivated or reset account is refused on the server, so a copied
cookie stops working when its session ends. Between the password and the second factor the
cookie holds a short-lived pending step instead (naming the account token), so a
half-finished sign-in reaches no staff page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_login import LoginManager, login_user, logout_user
from flask_login import current_user as login_current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.db import get_session, get_sessionmaker, request_writes
from survey.models import User
from survey.services import sign_in, staff_sessions

login_manager = LoginManager()
login_manager.login_view = "auth.login"

PENDING = "pending_sign_in"
# A password step left unfinished for longer than this starts again.
PENDING_SECONDS = 10 * 60
# The blueprints that are staff pages: a pending step sends them to that step.
STAFF_BLUEPRINTS = {"staff", "admin", "research", "dashboard"}
STEP_ENDPOINTS = {"code": "auth.second_factor", "enrol": "auth.enrol"}
# Where Flask-Login keeps the id its user loader is given: here, the staff session's token.
_COOKIE_KEY = "_user_id"
_REFUSED = "staff_session_refused"


def demo_mode() -> bool:
    """Whether the app runs as the demo (PEERPULSE_DEMO=1), where demo accounts need no second factor."""
    return bool(current_app.config.get("DEMO"))


def _write_now(action: Callable[[Session], Any]) -> None:
    """Record a session's use or end at once, whatever the request does afterwards.

    A request that writes anyway uses its own session (on SQLite it holds the write lock);
    a reading one writes in a short session of its own, so its reads stay deferred.
    """
    if request_writes():
        db = get_session()
        action(db)
        db.commit()
        return
    with get_sessionmaker(writing=True)() as db:
        action(db)
        db.commit()


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The account of the open staff session the cookie names; an expired one is ended here."""
    config = current_app.config
    found = staff_sessions.resume(
        get_session(), token, idle=dt.timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
        limit=dt.timedelta(hours=config["SESSION_MAX_HOURS"]), demo_mode=demo_mode())
    row = found.session
    if found.refused is not None:
        g.setdefault(_REFUSED, found.refused)
        if row is not None:
            row_id, reason = row.id, found.refused
            _write_now(lambda db: staff_sessions.end(db, row_id, reason))
        return None
    assert row is not None
    if found.stale:
        row_id = row.id
        _write_now(lambda db: staff_sessions.touch(db, row_id))
    return row.user


def _now() -> float:
    return sign_in.now().timestamp()


def _account(token: str) -> User | None:
    """The active account whose account token a pending sign-in step names."""
    user = get_session().scalar(select(User).where(User.session_token == token))
    return user if user is not None and user.active else None


def session_token() -> str | None:
    """The staff session token this request's cookie holds, if any."""
    value = session.get(_COOKIE_KEY)
    return value if isinstance(value, str) else None


def sign_in_fully(user: User, token: str) -> None:
    """Put a just-opened staff session (staff_sessions.start) in the cookie."""
    messages = session.get("_flashes")
    session.clear()  # nothing from before sign-in carries over, except messages to show
    if messages:
        session["_flashes"] = messages
    login_user(user)
    session[_COOKIE_KEY] = token  # the session's token, not the account's (User.get_id)


def sign_out() -> None:
    """Forget this browser's session (its server-side end is staff_sessions.sign_out)."""
    logout_user()
    session.clear()


def begin_step(user: User, step: str, next_url: str | None) -> None:
    """Remember a password that matched while the second factor is asked for (or set up)."""
    session.clear()
    session[PENDING] = {"token": user.session_token, "step": step, "at": _now(), "next": next_url}


def pending(step: str) -> tuple[User, str | None] | None:
    """The account (and where to go after) whose password matched for this step, if still fresh."""
    state: Any = session.get(PENDING)
    if not isinstance(state, dict) or state.get("step") != step:
        return None
    if _now() - float(state.get("at", 0)) > PENDING_SECONDS:
        session.pop(PENDING, None)
        return None
    user = _account(str(state.get("token", "")))
    return (user, state.get("next")) if user is not None else None


def _ended_message(reason: str) -> str:
    """What to tell someone whose session the server refused."""
    if reason == staff_sessions.IDLE:
        minutes = current_app.config["SESSION_IDLE_MINUTES"]
        return f"You were signed out after {minutes} minutes without activity. Please sign in again."
    if reason == staff_sessions.TIME_LIMIT:
        return "Your session reached its time limit and has ended. Please sign in again."
    return "Your session has ended. Please sign in again."


def enforce_session_rules() -> WerkzeugResponse | None:
    """Before each request: end expired or revoked sessions; keep pending sign-ins on their step."""
    if request.endpoint == "static":
        return None
    if _COOKIE_KEY in session:
        user = login_current_user._get_current_object()
        if not getattr(user, "is_authenticated", False):
            # Signed out, expired, or the account was reset or deactivated (see load_user).
            sign_out()
            flash(_ended_message(str(g.get(_REFUSED, staff_sessions.ENDED))), "error")
            return None
        if user.needs_second_factor(demo_mode()) and not user.has_second_factor:
            # Its role changed, or its second factor was removed: set one up before going on.
            token = session_token() or ""
            _write_now(lambda db: staff_sessions.end(db, token, staff_sessions.ACCOUNT))
            begin_step(user, "enrol", None)
        else:
            return None
    state = session.get(PENDING)
    if isinstance(state, dict) and request.blueprint in STAFF_BLUEPRINTS:
        endpoint = STEP_ENDPOINTS.get(str(state.get("step")))
        if endpoint is not None:
            return redirect(url_for(endpoint))
    return None


def init_app(app: Flask) -> None:
    """Bind Flask-Login and the session rules to the app."""
    login_manager.init_app(app)
    app.before_request(enforce_session_rules)
