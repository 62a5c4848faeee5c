"""Read-only JSON API for staff, described by an OpenAPI document at /api/v1/openapi.json."""

import hashlib
import hmac

from flask import Blueprint, current_app, request
from flask_limiter.util import get_remote_address

from survey.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Every route is GET only and changes nothing, so there is no form to forge; a personal API
# token is sent by scripts in a header, never by a browser on its own.
csrf.exempt(bp)


def _no_bearer() -> bool:
    return request.authorization is None or request.authorization.type != "bearer"


def _token_key() -> str:
    """The limiter's key for a token: a keyed hash, so its storage never holds a usable token."""
    token = request.authorization.token if request.authorization is not None else ""
    digest = hmac.new(str(current_app.config["SECRET_KEY"]).encode(), (token or "").encode(),
                      hashlib.sha256)
    return digest.hexdigest()[:32]


# Ordinary use is counted per token (colleagues behind one address do not share it); refused
# tokens per client address (guessing), and they leave no per-token key behind.
limiter.limit(lambda: str(current_app.config["RATELIMIT_API_TOKEN"]), key_func=_token_key,
              scope="api-token", exempt_when=_no_bearer,
              deduct_when=lambda response: response.status_code != 401)(bp)
limiter.limit(lambda: str(current_app.config["RATELIMIT_API_TOKEN_FAILED"]),
              key_func=get_remote_address, scope="api-token-failed", exempt_when=_no_bearer,
              deduct_when=lambda response: response.status_code == 401)(bp)

from survey.api import problems, views  # noqa: E402,F401
from survey.api.access import authenticate_bearer  # noqa: E402

bp.before_request(authenticate_bearer)
