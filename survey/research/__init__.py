"""Research pages: growth models, reliability, invariance, attrition and the pseudonymous export."""

from flask import Blueprint

bp = Blueprint("research", __name__, url_prefix="/research")

from survey.research import attrition, free_text, invariance, views  # noqa: E402,F401
