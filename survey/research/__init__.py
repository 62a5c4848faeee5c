"""Research pages: growth models, reliability and the pseudonymous export."""

from flask import Blueprint

bp = Blueprint("research", __name__, url_prefix="/research")

from survey.research import views  # noqa: E402,F401
