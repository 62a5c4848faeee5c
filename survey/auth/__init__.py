"""Staff sign-in and the access checks every staff view uses."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/staff")

from survey.auth import views  # noqa: E402,F401  (routes attach to bp)
from survey.auth.access import current_user, require_role  # noqa: E402

__all__ = ["bp", "current_user", "require_role"]
