"""Security headers on every response, and a guard against NUL characters in URLs.

Caching: every response but the static files (CSS, JavaScript, images of the product itself) is
sent with `Cache-Control: no-store` unless its view chose otherwise, so that no page, CSV, zip,
JSON or plot about people (export.zip, model.json, the model plots, the dashboard, the API,
respondent pages) is kept by a browser or a shared proxy. HSTS is sent when BASE_URL is https.
"""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
# One year, subdomains included: sent only when the deployment is served over https.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def add_security_headers(response: Response) -> Response:
    """No inline script, no framing, no referrer (personal links carry tokens)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "static" and not (request.endpoint or "").endswith(".static"):
        # Pages, files and data may hold personal answers: never cache them on shared devices.
        headers.setdefault("Cache-Control", "no-store")
    if str(current_app.config.get("BASE_URL", "")).startswith("https://"):
        headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
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
