"""Personal links: what a token leads to, rate limits on guessing, and the invalid-link page."""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any, NoReturn
from urllib.parse import urlsplit

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask.wrappers import Response as FlaskResponse
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.exceptions import HTTPException, TooManyRequests
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
    """Failed link look-ups allowed per client address (RATELIMIT_LINK_GUESS)."""
    return str(current_app.config["RATELIMIT_LINK_GUESS"])


def _respondent_limit() -> str:
    """Requests allowed per personal link (RATELIMIT_RESPONDENT): one person's ordinary use."""
    return str(current_app.config["RATELIMIT_RESPONDENT"])


def _token_key() -> str:
    """The limiter's key for a link: a keyed hash, so its storage never holds a usable token.

    Keyed with the app's secret so that the key cannot be matched to the stored token hash.
    """
    token = str((request.view_args or {}).get("token", ""))
    digest = hmac.new(str(current_app.config["SECRET_KEY"]).encode(), token.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _lookup_failed(response: FlaskResponse) -> bool:
    """Unknown or closed links (404/410) are failed look-ups."""
    return response.status_code in (404, 410)


def _lookup_found(response: FlaskResponse) -> bool:
    """Only links that exist count towards their own limit (guesses leave no key behind)."""
    return not _lookup_failed(response)


def _count_failed_lookup() -> None:
    """Count a failed look-up against the client's address; past the limit, answer 429.

    Counted after the look-up, so that valid links from an address that is guessing still work.
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    address = get_remote_address()
    try:
        for item in parse_many(_guess_limit()):
            if not limiter.limiter.hit(item, "respondent-link-guess", address):
                reset_at = limiter.limiter.get_window_stats(item, "respondent-link-guess", address)[0]
                retry_after = max(1, int(reset_at - time.time()) + 1)
                raise TooManyRequests(retry_after=retry_after)
    except limiter.storage.base_exceptions:  # a storage outage must not stop respondents
        current_app.logger.warning("rate limit storage unavailable; guessing limit not applied")


def token_route(view: Callable[..., Any]) -> Callable[..., Any]:
    """Rate-limit a token view: per link for ordinary use, per address for failed look-ups.

    A trust's staff usually share one internet address, so ordinary use is counted per link
    and only guessing (404/410 answers) per address.
    """

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            response = view(*args, **kwargs)
        except HTTPException as exc:
            code = exc.response.status_code if exc.response is not None else exc.code
            if code in (404, 410):
                _count_failed_lookup()
            raise
        if isinstance(response, FlaskResponse) and _lookup_failed(response):
            _count_failed_lookup()
        return response

    return limiter.shared_limit(
        _respondent_limit, scope="respondent-link", key_func=_token_key, deduct_when=_lookup_found,
    )(guarded)


@bp.before_request
def _limit_body_size() -> None:
    """Refuse huge bodies early (413) instead of parsing them."""
    request.max_content_length = MAX_POST_BYTES


def back_to(token: str, target: str) -> WerkzeugResponse:
    """Back to `target`, a path of a page of the same link (else the link itself)."""
    own = url_for("respondent.entry", token=token)
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not (target == own or target.startswith(own + "/")):
        target = own  # only ever back to a page of the same link
    return redirect(target, 303)


def follow(token: str, goto: Goto) -> WerkzeugResponse:
    """Send the person where the service says they belong (the invalid-link page stops here)."""
    if goto.where == Where.UNKNOWN_LINK:
        invalid_link(LinkState.UNKNOWN)
    if goto.where == Where.CLOSED_LINK:
        invalid_link(LinkState.CLOSED)
    if goto.where == Where.PAGE:
        return redirect(url_for("respondent.page", token=token, number=goto.number), 303)
    return redirect(url_for(f"respondent.{goto.where.value}", token=token), 303)
