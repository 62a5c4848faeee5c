"""Trust monitoring: response rates and scores over time, small groups suppressed."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

from survey.dashboard import views  # noqa: E402,F401
