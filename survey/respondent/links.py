"""Personal links: what a token leads to, rate limits on guessing, and the invalid-link page."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask.wrappers import Response as FlaskResponse

from survey.db import get_session, utcnow
from survey.extensions import limiter
from survey.models import Invitation, InvitationStatus
from survey.respondent import bp
from survey.services.tokens import find_invitation

# A respondent form is a few kilobytes; anything far larger is refused before it is parsed.
MAX_POST_BYTES = 64 * 1024


class LinkState(enum.Enum):
    """What a personal link may show."""

    OPEN = "open"  # the questionnaire can be answered
    COMPLETED = "completed"  # the thank-you page
    CLOSED = "closed"  # expired or cancelled: 410
    UNKNOWN = "unknown"  # no such link, or nothing to show: 404


@dataclass(frozen=True)
class Link:
    """A resolved personal link."""

    token: str
    state: LinkState
    invitation: Invitation | None


def resolve(token: str, now: dt.datetime | None = None) -> Link:
    """Look the token up by its hash and decide what it may show."""
    invitation = find_invitation(get_session(), token)
    return Link(token, link_state(invitation, now or utcnow()), invitation)


def link_state(invitation: Invitation | None, now: dt.datetime) -> LinkState:
    """Open while sent/started and inside its window; withdrawn or declined people look unknown."""
    if invitation is None or not invitation.participant.is_active:
        return LinkState.UNKNOWN
    status = invitation.status
    if status == InvitationStatus.COMPLETED:
        return LinkState.COMPLETED
    if status in (InvitationStatus.EXPIRED, InvitationStatus.CANCELLED) or now >= invitation.closes_at:
        return LinkState.CLOSED
    if status in (InvitationStatus.SENT, InvitationStatus.STARTED) and invitation.opens_at <= now:
        return LinkState.OPEN
    return LinkState.UNKNOWN


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


def require_open(token: str, consent_done: bool = True) -> Invitation:
    """The open invitation of a token, or stop: invalid-link page, thank-you page or consent."""
    from survey.services.consent import needs_consent

    link = resolve(token)
    if link.state in (LinkState.UNKNOWN, LinkState.CLOSED) or link.invitation is None:
        invalid_link(link.state)
    if link.state == LinkState.COMPLETED:
        abort(redirect(url_for("respondent.thanks", token=token), 303))
    if consent_done and needs_consent(link.invitation.participant):
        abort(redirect(url_for("respondent.consent", token=token), 303))
    return link.invitation
