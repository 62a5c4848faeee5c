"""Personal links: what a token leads to, rate limits on guessing, and the invalid-link page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask.wrappers import Response as FlaskResponse
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.extensions import limiter
from survey.respondent import bp
from survey.services.respondent import Goto, LinkState, Where

# A respondent form is a few kilobytes; anything far larger is refused before it is parsed.
MAX_POST_BYTES = 64 * 1024


def invalid_link(state: LinkState) -> NoReturn:
    """Stop with the plain page shared by unknown and closed links (the body is the same)."""
    code = 410 if state == LinkState.CLOSED else 404
    abort(make_response(render_template("respondent/invalid_link.html"), code))


def _guess_limit() -> str:
    """Failed link lookups allowed per client address."""
    return str(current_app.config.get("RESPONDENT_GUESS_LIMIT", "30 per minute"))


def _overall_limit() -> str:
    """All respondent requests allowed per client address (generous: trusts share addresses)."""
    return str(current_app.config.get("RESPONDENT_RATE_LIMIT", "300 per minute"))


def _lookup_failed(response: FlaskResponse) -> bool:
    """Only unknown or closed links count towards the guessing limit."""
    return response.status_code in (404, 410)


def token_route(view: Callable[..., Any]) -> Callable[..., Any]:
    """Rate-limit a token view: guessing links is limited hard, ordinary use loosely."""
    guarded = limiter.shared_limit(
        _guess_limit, scope="respondent-link-guess", deduct_when=_lookup_failed
    )(view)
    return limiter.shared_limit(_overall_limit, scope="respondent")(guarded)


@bp.before_request
def _limit_body_size() -> None:
    """Refuse huge bodies early (413) instead of parsing them."""
    request.max_content_length = MAX_POST_BYTES


def follow(token: str, goto: Goto) -> WerkzeugResponse:
    """Send the person where the service says they belong (the invalid-link page stops here)."""
    if goto.where == Where.UNKNOWN_LINK:
        invalid_link(LinkState.UNKNOWN)
    if goto.where == Where.CLOSED_LINK:
        invalid_link(LinkState.CLOSED)
    if goto.where == Where.PAGE:
        return redirect(url_for("respondent.page", token=token, number=goto.number), 303)
    return redirect(url_for(f"respondent.{goto.where.value}", token=token), 303)
