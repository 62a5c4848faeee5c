"""Staff sign-in and the access checks every staff view uses."""

from typing import cast

from flask import Blueprint, Flask

bp = Blueprint("auth", __name__, url_prefix="/staff")

from survey.auth import views  # noqa: E402,F401  (routes attach to bp)
from survey.auth.access import current_user, require_role  # noqa: E402
from survey.auth.sessions import init_app as _init_sessions  # noqa: E402

# Flask-Login and the session rules come with the blueprint (one registration in create_app).
bp.record_once(lambda state: _init_sessions(cast(Flask, state.app)))

__all__ = ["bp", "current_user", "require_role"]
