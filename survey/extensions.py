"""Flask extensions, created once and bound in create_app."""

from __future__ import annotations

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
# Limits are per route; each names its own key (per link, or per client address).
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def staff_login_limit() -> str:
    """Staff sign-in attempts allowed per client address (RATELIMIT_STAFF_LOGIN)."""
    return str(current_app.config["RATELIMIT_STAFF_LOGIN"])
