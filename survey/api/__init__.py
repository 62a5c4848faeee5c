"""Read-only JSON API for staff, described by an OpenAPI document at /api/v1/openapi.json."""

from flask import Blueprint

from survey.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Every route is GET only and changes nothing, so there is no form to forge.
csrf.exempt(bp)

from survey.api import problems, views  # noqa: E402,F401
