"""Configuration from environment variables, with documented defaults."""

from __future__ import annotations

import os
import sys
import zoneinfo
from pathlib import Path
from typing import Any, NoReturn

INSTANCE_DIR = Path(os.environ.get("PEERPULSE_INSTANCE", Path.cwd() / "instance"))

DEFAULT_TIMEZONE = "Europe/London"  # of new studies, unless PEERPULSE_TIMEZONE says otherwise
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105  # nosec B105 - only in debug/demo/testing
#: The smallest PEERPULSE_MIN_GROUP_SIZE accepted: a figure about one or two people is about them.
MIN_GROUP_FLOOR = 3


class ConfigError(RuntimeError):
    """Raised when the configuration cannot start the application safely."""


def _bool(value: str | None, default: bool = False) -> bool:
    """Read a yes/no environment variable."""
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _intervals(value: str | None) -> dict[str, int]:
    """Read PEERPULSE_JOB_INTERVALS, e.g. "deliver=10,reminders=60" (seconds per job)."""
    out: dict[str, int] = {}
    for part in (value or "").split(","):
        if not part.strip():
            continue
        name, _, seconds = part.partition("=")
        try:
            out[name.strip()] = int(seconds)
        except ValueError:
            raise ConfigError(
                f"PEERPULSE_JOB_INTERVALS: '{part.strip()}' is not job=seconds "
                "(for example deliver=30,reminders=300)"
            ) from None
        if out[name.strip()] < 1:
            raise ConfigError(f"PEERPULSE_JOB_INTERVALS: '{part.strip()}' must be at least 1 second")
    return out


def _int(env: dict[str, str], name: str, default: int, *, positive: bool = False) -> int:
    """Read a whole-number environment variable, naming it if it is not one (or not > 0)."""
    raw = env.get(name, "")
    if raw.strip() == "":
        return default
    kind = "a positive whole number" if positive else "a whole number"
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {kind}, not '{raw}'") from None
    if positive and value < 1:
        raise ConfigError(f"{name} must be {kind}, not '{raw}'")
    return value


def default_database_url() -> str:
    """The embedded default: a SQLite file under instance/."""
    return f"sqlite:///{INSTANCE_DIR / 'peerpulse.db'}"


# Rate limits and their defaults. Ordinary use is counted per personal link (a trust's staff
# share one address); only failed link look-ups and staff sign-in are counted per address.
RATE_LIMITS = {
    "RATELIMIT_RESPONDENT": "60 per minute",  # requests per personal link
    "RATELIMIT_LINK_GUESS": "30 per minute",  # failed link look-ups per client address
    "RATELIMIT_STAFF_LOGIN": "10 per minute",  # staff sign-in attempts per client address
    "RATELIMIT_API_TOKEN": "120 per minute",  # nosec B105 - API requests per personal API token
    "RATELIMIT_API_TOKEN_FAILED": "30 per minute",  # nosec B105 - refused API tokens per address
}


def rate_limit(env: dict[str, str], name: str, default: str) -> str:
    """A rate limit from the environment, refused in one line unless Flask-Limiter can read it."""
    from limits import parse_many

    value = env.get(name, "").strip() or default
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(
            f"{name}={value!r} is not a rate limit; use e.g. '60 per minute' or '10/second;500/hour'"
        ) from None
    return value


def rate_limit_storage(env: dict[str, str]) -> str:
    """The limiter's storage URI, refused in one line if its scheme is unknown."""
    from limits.storage import SCHEMES

    value = env.get("RATELIMIT_STORAGE_URI", "").strip() or "memory://"
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in SCHEMES or scheme.startswith("async+"):
        raise ConfigError(
            f"RATELIMIT_STORAGE_URI={value!r} is not a storage Flask-Limiter knows; "
            "use memory:// (one process) or redis://HOST:PORT (several workers or servers)"
        )
    return value


class Config:
    """Settings read from the environment when the app is created."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = dict(os.environ if environ is None else environ)
        self.DEBUG = _bool(env.get("FLASK_DEBUG"))
        self.DEMO = _bool(env.get("PEERPULSE_DEMO"))
        self.TESTING = False
        self.DATABASE_URL = env.get("DATABASE_URL") or default_database_url()
        self.SECRET_KEY = env.get("SECRET_KEY", "")
        self.BASE_URL = env.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        self.TIMEZONE = env.get("PEERPULSE_TIMEZONE", DEFAULT_TIMEZONE)
        # Mail: "file" writes .eml files under instance/mail (the demo default), "smtp" sends.
        self.MAIL_BACKEND = env.get("MAIL_BACKEND", "file")
        self.MAIL_FILE_DIR = env.get("MAIL_FILE_DIR", str(INSTANCE_DIR / "mail"))
        self.MAIL_FROM = env.get("MAIL_FROM", "PeerPulse <peerpulse@localhost>")
        # The return address bounces come back to: bounces@example.org makes each email's
        # envelope sender bounces+<message id>@example.org (read by `flask bounces serve`).
        self.MAIL_BOUNCE_ADDRESS = env.get("MAIL_BOUNCE_ADDRESS", "")
        # The bearer token Notify's delivery-status callback presents; empty turns it off.
        self.NOTIFY_CALLBACK_TOKEN = env.get("NOTIFY_CALLBACK_TOKEN", "")
        self.SMTP_HOST = env.get("SMTP_HOST", "localhost")
        self.SMTP_PORT = int(env.get("SMTP_PORT", "25"))
        self.SMTP_STARTTLS = _bool(env.get("SMTP_STARTTLS"))
        self.SMTP_SSL = _bool(env.get("SMTP_SSL"))
        self.SMTP_USER = env.get("SMTP_USER", "")
        self.SMTP_PASSWORD = env.get("SMTP_PASSWORD", "")
        self.SMTP_TIMEOUT = float(env.get("SMTP_TIMEOUT", "10"))
        # Text messages: "file" writes .txt files under instance/sms (the demo default),
        # "notify" sends through GOV.UK Notify (its template must be exactly "((body))").
        self.SMS_BACKEND = env.get("SMS_BACKEND", "file")
        self.SMS_FILE_DIR = env.get("SMS_FILE_DIR", str(INSTANCE_DIR / "sms"))
        self.NOTIFY_API_KEY = env.get("NOTIFY_API_KEY", "")
        self.NOTIFY_SMS_TEMPLATE_ID = env.get("NOTIFY_SMS_TEMPLATE_ID", "")
        self.NOTIFY_BASE_URL = env.get("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
        # The bearer token Notify's inbound SMS callback presents (replies such as STOP);
        # empty turns the callback endpoint off.
        self.SMS_INBOUND_TOKEN = env.get("SMS_INBOUND_TOKEN", "")
        self.SESSION_COOKIE_SECURE = self.BASE_URL.startswith("https://")
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.MAX_CONTENT_LENGTH = int(env.get("MAX_CONTENT_LENGTH", str(2 * 1024 * 1024)))
        self.WTF_CSRF_TIME_LIMIT = None  # a survey page may stay open for a long time
        # --- Rate limits (Flask-Limiter's string form), checked here so that a typo stops start-up.
        self.RATELIMIT_STORAGE_URI = rate_limit_storage(env)
        self.RATELIMIT_ENABLED = True
        # If Redis goes away, keep answering: each worker limits in memory until it is back.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        for name, default in RATE_LIMITS.items():
            setattr(self, name, rate_limit(env, name, default))
        # --- end of rate limits
        self.MIN_GROUP_SIZE = _int(env, "PEERPULSE_MIN_GROUP_SIZE", 5)
        # Staff sessions end after this long without a request, and this long after sign-in.
        self.SESSION_IDLE_MINUTES = int(env.get("PEERPULSE_SESSION_IDLE_MINUTES", "30"))
        self.SESSION_MAX_HOURS = int(env.get("PEERPULSE_SESSION_MAX_HOURS", "12"))
        # Number of reverse proxies in front of the app whose X-Forwarded-* headers to trust
        # (rate limits and HTTPS detection need the client's real address and scheme).
        self.PROXY_COUNT = int(env.get("PEERPULSE_PROXY_COUNT", "0"))
        # Scheduler: seconds between runs per job (defaults in survey/scheduler.py) and between
        # heartbeats; /readyz wants a heartbeat younger than HEARTBEAT_MAX_AGE seconds, unless
        # READY_REQUIRE_SCHEDULER is off (e.g. cron runs `flask dispatch --once` rarely).
        self.SCHEDULER_INTERVALS = _intervals(env.get("PEERPULSE_JOB_INTERVALS"))
        self.SCHEDULER_HEARTBEAT_SECONDS = _int(env, "PEERPULSE_HEARTBEAT_SECONDS", 30)
        self.HEARTBEAT_MAX_AGE = _int(env, "PEERPULSE_HEARTBEAT_MAX_AGE", 120)
        self.READY_REQUIRE_SCHEDULER = _bool(env.get("PEERPULSE_READY_REQUIRE_SCHEDULER"), True)
        # Outbox: how long a delivery run holds the messages it claimed. A scheduler killed
        # mid-delivery leaves its claim behind; another takes those messages once it runs out.
        self.OUTBOX_LEASE_SECONDS = _int(env, "OUTBOX_LEASE_SECONDS", 300, positive=True)

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain mapping for Flask's config."""
        return {k: v for k, v in vars(self).items() if k.isupper()}


def finalise(config: dict[str, Any]) -> None:
    """Check the merged configuration; refuse to start production without a secret key."""
    zone = str(config.get("TIMEZONE", DEFAULT_TIMEZONE))
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"PEERPULSE_TIMEZONE={zone!r} is not a time zone; use an IANA name "
                          "such as Europe/London (new studies take it as their time zone).") from None
    if str(config.get("BASE_URL", "")).startswith("https://"):
        config["SESSION_COOKIE_SECURE"] = True
    _check_min_group(config)
    _check_sms(config)
    if not config.get("SECRET_KEY"):
        if config.get("DEBUG") or config.get("DEMO") or config.get("TESTING"):
            config["SECRET_KEY"] = DEV_SECRET_KEY
        else:
            raise ConfigError(
                "SECRET_KEY is not set. PeerPulse refuses to start in production mode without "
                "one. Set SECRET_KEY to a long random value, for example the output of "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`, or run with "
                "FLASK_DEBUG=1 / PEERPULSE_DEMO=1 for local development."
            )


def _check_min_group(config: dict[str, Any]) -> None:
    """Refuse a minimum group below MIN_GROUP_FLOOR: smaller groups would show individuals."""
    value = config.get("MIN_GROUP_SIZE", 5)
    if isinstance(value, bool) or not isinstance(value, int) or value < MIN_GROUP_FLOOR:
        raise ConfigError(
            f"PEERPULSE_MIN_GROUP_SIZE={value!r} is too small: dashboards would show figures "
            f"about one or two people. Use a whole number of at least {MIN_GROUP_FLOOR} "
            "(the default is 5)."
        )


def _check_sms(config: dict[str, Any]) -> None:
    """Refuse an unknown SMS backend, or Notify without its key and template."""
    backend = config.get("SMS_BACKEND", "file")
    if backend not in ("file", "notify"):
        raise ConfigError(f"SMS_BACKEND={backend!r} is not a backend; use file or notify")
    if backend == "notify":
        missing = [name for name in ("NOTIFY_API_KEY", "NOTIFY_SMS_TEMPLATE_ID")
                   if not config.get(name)]
        if missing:
            raise ConfigError(f"SMS_BACKEND=notify needs {' and '.join(missing)} "
                              "(from GOV.UK Notify: API integration, and the ((body)) template)")
        key = str(config["NOTIFY_API_KEY"])
        if len(key) < 74:
            raise ConfigError("NOTIFY_API_KEY is not a GOV.UK Notify API key "
                              "(name-<service id>-<secret>, as Notify shows it once)")


def exit_on_config_error(exc: ConfigError) -> NoReturn:
    """Print one clear line (no traceback) and exit 1: for `flask`, `gunicorn` and scripts."""
    sys.stderr.write(f"PeerPulse configuration error: {exc}\n")
    sys.stderr.flush()
    raise SystemExit(1)


def check_or_exit() -> None:
    """Check the environment's configuration as create_app would; exit 1 on an error."""
    try:
        finalise(Config().as_dict())
    except ConfigError as exc:
        exit_on_config_error(exc)
