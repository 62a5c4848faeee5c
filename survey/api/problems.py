"""Errors as JSON problem objects (RFC 9457): no API response is ever an HTML page."""

from __future__ import annotations

from flask import Response, current_app, json, request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from survey.api import bp
from survey.errors import database_unavailable, render_error

PROBLEM_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str) -> Response:
    """A JSON problem response."""
    body = json.dumps({"status": status, "title": title, "detail": detail})
    return Response(body, status=status, mimetype=PROBLEM_TYPE)


def _from_http(exc: HTTPException) -> Response:
    """A problem object for an HTTP error, keeping its headers (e.g. Allow on 405)."""
    code = exc.code or 500
    response = problem(code, exc.name, exc.description or exc.name)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    return _from_http(exc)


# The database out of reach is a 503 with Retry-After here too (one handler, survey.errors).
bp.register_error_handler(DBAPIError, database_unavailable)
bp.register_error_handler(PoolTimeoutError, database_unavailable)


@bp.errorhandler(Exception)
def _unexpected(_exc: Exception) -> Response:
    current_app.logger.exception("Unhandled API error on %s %s", request.method, request.path)
    return _from_http(InternalServerError("Something went wrong on our side; it has been logged."))


def _in_api() -> bool:
    """Whether this request's path is under the API's prefix."""
    return request.path == bp.url_prefix or request.path.startswith(f"{bp.url_prefix}/")


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
def _routing_error(exc: HTTPException) -> Response | tuple[str, int]:
    """Unknown API paths and methods fail before any blueprint is chosen: answer them in JSON too."""
    if _in_api():
        return _from_http(exc)
    return render_error(exc.code or 500)


@bp.after_request
def _no_store(response: Response) -> Response:
    """Figures about people are never kept in shared caches."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response
