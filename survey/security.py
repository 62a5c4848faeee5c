"""Security headers on every response, and a guard against NUL characters in URLs."""

from __future__ import annotations

from flask import Flask, Response, abort, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


def add_security_headers(response: Response) -> Response:
    """No inline script, no framing, no referrer (personal links carry tokens)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if response.mimetype == "text/html":
        # Pages may hold personal answers: never cache them on shared devices.
        headers.setdefault("Cache-Control", "no-store")
    return response


def refuse_nul_characters() -> None:
    """A 400 for a NUL character in the path or query string, which no page or parameter takes.

    PostgreSQL refuses text holding NUL, so such a value must never reach a query (it was a 500).
    """
    if "\x00" in request.path or any("\x00" in value for value in request.args.values()):
        abort(400, description="The address holds a NUL character (%00), which no page accepts.")


def init_app(app: Flask) -> None:
    """Register the header hook and the NUL guard."""
    app.before_request(refuse_nul_characters)
    app.after_request(add_security_headers)
