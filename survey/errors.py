"""Plain error pages: every error a person can read, never a traceback."""

from __future__ import annotations

from flask import Flask, Response, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: ("Something in that request was not right",
          "The page could not use what was sent. Nothing was saved from it. "
          "Please go back and try again."),
    403: ("You cannot see this page", "Your account does not give access to this page."),
    404: ("Page not found", "There is no page at this address."),
    405: ("Not allowed", "This page cannot be used that way."),
    410: ("This link no longer works", "This link has expired or been closed."),
    413: ("Too much was sent", "The request was too large. Nothing was saved from it."),
    429: ("Too many attempts", "Please wait a minute and try again."),
    500: ("Something went wrong on our side",
          "The problem has been logged. Please try again later."),
}


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


def init_app(app: Flask) -> None:
    """Register handlers for HTTP errors, CSRF failures and anything unexpected."""

    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError) -> tuple[str, int]:
        return render_error(
            400, "This form has expired",
            "For your security the form could not be accepted. Nothing was saved from it. "
            "Please reload the page and try again.",
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

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[str, int]:
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return render_error(500)
