"""/healthz and /readyz: JSON, no sign-in, no rate limit, never cached."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify

from survey.db import get_engine
from survey.extensions import limiter
from survey.health import bp, checks


def _json(body: dict[str, Any], ready: bool) -> Response:
    """A JSON answer, 200 when ready else 503, never stored by a cache."""
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
@limiter.exempt
def healthz() -> Response:
    """The process is alive and answering (touches no database)."""
    return _json({"status": "ok"}, True)


@bp.route("/readyz")
@limiter.exempt
def readyz() -> Response:
    """Ready for traffic: database, schema at head, scheduler heartbeat, mail backend."""
    engine = get_engine()
    config = dict(current_app.config)
    results = {
        "database": checks.database(engine),
        "migrations": checks.schema(engine),
        "scheduler": checks.scheduler(engine, config),
        "mail": checks.mail(config),
    }
    ready = all(check.status != checks.FAIL for check in results.values())
    body = {"status": "ready" if ready else "not ready",
            "checks": {name: check.as_dict() for name, check in results.items()}}
    return _json(body, ready)
