"""The front door: `/` says what PeerPulse is, where respondents find their link, where staff sign in."""

from flask import Blueprint

bp = Blueprint("front", __name__)

from survey.front import views  # noqa: E402,F401

__all__ = ["bp"]
