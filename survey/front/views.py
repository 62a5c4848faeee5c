"""`/`: a short page for whoever arrives without a personal link (in English or Welsh)."""

from __future__ import annotations

from flask import render_template

from survey.front import bp
from survey.i18n import register_language_source

# The visitor is unknown: the page follows `?lang=`, else the browser's Accept-Language.
register_language_source(bp.name, lambda: None)


@bp.route("/")
def index() -> str:
    """What PeerPulse is; respondents use their personal link; staff sign in."""
    return render_template("front/index.html")
