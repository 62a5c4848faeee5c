"""Health endpoints for load balancers and monitors: /healthz (alive) and /readyz (ready)."""

from flask import Blueprint

bp = Blueprint("health", __name__)

from survey.health import views  # noqa: E402,F401

__all__ = ["bp"]
