"""Plain error pages: every error a person can read, never a traceback."""

from __future__ import annotations

import re

from flask import Flask, Response, current_app, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

# Respondents may meet these pages too, so they are translated (lazily: in the page's language).
MESSAGES = {
    400: (_l("Something in that request was not right"),
          _l("The page could not use what was sent. Nothing was saved from it. "
             "Please go back and try again.")),
    403: (_l("You cannot see this page"), _l("Your account does not give access to this page.")),
    404: (_l("Page not found"), _l("There is no page at this address.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    410: (_l("This link no longer works"), _l("This link has expired or been closed.")),
    413: (_l("Too much was sent"), _l("The request was too large. Nothing was saved from it.")),
    429: (_l("Too many attempts"), _l("Please wait a minute and try again.")),
    500: (_l("Something went wrong on our side"),
          _l("The problem has been logged. Please try again later.")),
    503: (_l("The survey is briefly unavailable"),
          _l("We could not reach our database just now. Answers you sent before are kept. "
             "Please wait a minute, then go back and send this page again.")),
}

# A respondent's personal link (/r/<token>/...): the token is a credential, kept out of logs.
PERSONAL_LINK = re.compile(r"^(/r/)[^/]+")

# Seconds a client is asked to wait when the database cannot be reached.
RETRY_AFTER_SECONDS = 30


def render_error(code: int, title: str | None = None, message: str | None = None) -> tuple[str, int]:
    """Render the plain error page for a status code."""
    default_title, default_message = MESSAGES.get(code, MESSAGES[500])
    return (
        render_template(
            "error.html", code=code, title=title or default_title,
            message=message or default_message,
        ),
        code,
    )


def is_database_outage(exc: BaseException) -> bool:
    """Whether an error means the database cannot be reached (rather than a bug)."""
    if isinstance(exc, PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    )


def database_unavailable(exc: Exception) -> Response:
    """503 with Retry-After when the database is out of reach: a page for people, JSON for the API.

    Nothing is retried here: the request's transaction is lost, and its session is closed at
    teardown; the pool (pre-ping on PostgreSQL) reconnects once the database is back.
    """
    if isinstance(exc, DataError) and "NUL" in str(exc.orig):
        # A NUL that no input check caught (each service refuses one, naming the field): a 400,
        # never a 500. The message names no value (the engine hides bound parameters).
        current_app.logger.warning("Refused a NUL character on %s %s", request.method, _path())
        return _error_response(400)
    if not is_database_outage(exc):
        return _unexpected_error(exc)
    current_app.logger.error("Database unavailable on %s %s: %s", request.method, _path(),
                             str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    response = _error_response(503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _path() -> str:
    """The request's path for a log line: a personal link's token is left out."""
    return PERSONAL_LINK.sub(r"\1<redacted>", request.path)


def _unexpected_error(exc: Exception) -> Response:
    """Log an unexpected error with its traceback and show the plain 500 page."""
    current_app.logger.error("Unhandled error on %s %s", request.method, _path(), exc_info=exc)
    return _error_response(500)


def _error_response(code: int) -> Response:
    """The error page, or a problem object under /api/ (no API response is an HTML page)."""
    if request.path == "/api" or request.path.startswith("/api/"):
        from survey.api.problems import problem

        title, message = MESSAGES[code]
        return problem(code, str(title), str(message))
    return make_response(*render_error(code))


def init_app(app: Flask) -> None:
    """Register handlers for HTTP errors, CSRF failures, database outages and anything unexpected."""
    app.register_error_handler(DBAPIError, database_unavailable)
    app.register_error_handler(PoolTimeoutError, database_unavailable)

    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError) -> tuple[str, int]:
        return render_error(
            400, str(_l("This form has expired")),
            str(_l("For your security the form could not be accepted. Nothing was saved from it. "
                   "Please reload the page and try again.")),
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        body, code = render_error(exc.code or 500)
        response = make_response(body, code)
        # Keep what the error says about itself (Retry-After on 429 and 503, Allow on 405).
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    app.register_error_handler(Exception, _unexpected_error)
