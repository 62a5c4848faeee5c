"""Staff sessions on Flask-Login: the session token, the sign-in steps in between, expiry.

The cookie holds the account's session token (User.get_id), never its id: renewing the
token (password or second-factor reset) ends every session of that account. Between the
password and the second factor the cookie holds a short-lived pending step instead, so a
half-finished sign-in reaches no staff page.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import LoginManager, login_user, logout_user
from flask_login import current_user as login_current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.db import get_session
from survey.models import User
from survey.services import sign_in

login_manager = LoginManager()
login_manager.login_view = "auth.login"

PENDING = "pending_sign_in"
# A password step left unfinished for longer than this starts again.
PENDING_SECONDS = 10 * 60
# The blueprints that are staff pages: a pending step sends them to that step.
STAFF_BLUEPRINTS = {"staff", "admin", "research", "dashboard"}
STEP_ENDPOINTS = {"code": "auth.second_factor", "enrol": "auth.enrol"}


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The active account whose current session token the cookie names."""
    user = get_session().scalar(select(User).where(User.session_token == token))
    return user if user is not None and user.active else None


def _now() -> float:
    return sign_in.now().timestamp()


def sign_in_fully(user: User) -> None:
    """Start a full staff session for this account (after every step it needs)."""
    messages = session.get("_flashes")
    session.clear()  # nothing from before sign-in carries over, except messages to show
    if messages:
        session["_flashes"] = messages
    login_user(user)
    session["signed_in_at"] = session["seen_at"] = _now()


def sign_out() -> None:
    """End this browser's session only."""
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
    user = load_user(str(state.get("token", "")))
    return (user, state.get("next")) if user is not None else None


def _expired(app: Flask) -> str | None:
    """Why this signed-in session has ended, or None."""
    now = _now()
    idle_minutes = app.config["SESSION_IDLE_MINUTES"]
    if now - float(session.get("seen_at", 0)) > idle_minutes * 60:
        return f"You were signed out after {idle_minutes} minutes without activity. Please sign in again."
    if now - float(session.get("signed_in_at", 0)) > app.config["SESSION_MAX_HOURS"] * 3600:
        return "Your session reached its time limit and has ended. Please sign in again."
    return None


def enforce_session_rules() -> WerkzeugResponse | None:
    """Before each request: end expired or revoked sessions; keep pending sign-ins on their step."""
    if request.endpoint == "static":
        return None
    if "_user_id" in session:
        user = login_current_user._get_current_object()
        if not getattr(user, "is_authenticated", False):
            # The token changed (reset) or the account was deactivated.
            sign_out()
            flash("Your session has ended. Please sign in again.", "error")
            return None
        if (reason := _expired(current_app)) is not None:
            sign_out()
            flash(reason, "error")
            return None
        if user.needs_second_factor and not user.has_second_factor:
            # Its role changed, or its second factor was removed: set one up before going on.
            begin_step(user, "enrol", None)
        else:
            session["seen_at"] = _now()
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
