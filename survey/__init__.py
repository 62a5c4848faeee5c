"""PeerPulse: longitudinal pulse surveys of peer workers in mental health services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: settings, database, extensions, blueprints, CLI."""
    from survey import commands, db, errors, i18n, security
    from survey.config import INSTANCE_DIR, Config, finalise
    from survey.extensions import csrf, limiter
    from survey.staff import nav

    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    app.config.from_mapping(Config().as_dict())
    if config:
        app.config.from_mapping(config)
    finalise(app.config)
    _check_scheduler_config(app)
    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]

    db.init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    _register_blueprints(app)
    nav.init_app(app)
    commands.register(app)
    return app


def create_app_or_exit(config: Mapping[str, Any] | None = None) -> Flask:
    """create_app for entry points: a configuration error is one line on stderr and exit 1."""
    from survey.config import ConfigError, exit_on_config_error

    try:
        return create_app(config)
    except ConfigError as exc:
        exit_on_config_error(exc)


def _check_scheduler_config(app: Flask) -> None:
    """Refuse unknown job names in the interval settings now, not when the scheduler starts."""
    from survey.scheduler import intervals

    intervals(app)


def _register_blueprints(app: Flask) -> None:
    """Attach each audience's blueprint."""
    from survey import admin, api, auth, dashboard, front, health, inbound, research, respondent, staff

    for package in (front, auth, staff, respondent, dashboard, research, admin, api, health, inbound):
        app.register_blueprint(package.bp)
