"""Who may call the API: staff by a personal API token (Authorization: Bearer) or the session cookie.

A token acts as its owner: the same role check (`role_required`) and trust check
(`can_see_organisation`) as a signed-in session. A request that carries an Authorization
header is answered by the token alone, never by a session cookie beside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, g, request
from werkzeug.exceptions import Unauthorized

from survey.auth.access import current_user, role_required
from survey.db import get_session
from survey.models import StaffRole, User
from survey.services import api_tokens
from survey.services.errors import InputError
from survey.web import commit_after

F = TypeVar("F", bound=Callable[..., Any])

ALL_STAFF = (StaffRole.ADMIN, StaffRole.RESEARCHER, StaffRole.TRUST_MONITOR)
RESEARCH = (StaffRole.ADMIN, StaffRole.RESEARCHER)
REALM = "PeerPulse API"
# RFC 6750 allows these characters in error_description; others become spaces.
_NOT_IN_DESCRIPTION = re.compile(r'[^\x20\x21\x23-\x5b\x5d-\x7e]')


class BearerChallenge(Unauthorized):
    """A 401 whose WWW-Authenticate names the Bearer scheme (and why a token was refused)."""

    def __init__(self, description: str, error: str | None = None) -> None:
        super().__init__(description)
        self.challenge = f'Bearer realm="{REALM}"'
        if error is not None:
            said = _NOT_IN_DESCRIPTION.sub(" ", description)
            self.challenge += f', error="{error}", error_description="{said}"'

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        """The problem's headers and the challenge."""
        return [*super().get_headers(*args, **kwargs), ("WWW-Authenticate", self.challenge)]


def authenticate_bearer() -> None:
    """Before each API request: check a presented token (401 if refused, nothing written)."""
    header = request.headers.get("Authorization")
    if header is None:
        return
    scheme, _, presented = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise BearerChallenge("This API accepts only personal API tokens in the Authorization "
                              "header: 'Authorization: Bearer <token>'.", "invalid_request")
    db = get_session()
    method, path, demo = request.method, request.path, bool(current_app.config.get("DEMO"))
    try:
        token = commit_after(lambda: api_tokens.authenticate(db, presented.strip(), method, path,
                                                             demo_mode=demo))
    except InputError as exc:
        raise BearerChallenge(exc.by_field().get(api_tokens.REFUSAL_FIELD, str(exc)),
                              "invalid_token") from None
    g.api_token = token
    g.api_user = token.user


def api_user() -> User | None:
    """The caller: a token's owner, else the signed-in staff user (None if neither)."""
    user: User | None = g.get("api_user")
    if user is not None:
        return user
    if "Authorization" in request.headers:
        return None  # a refused token never falls back to the session
    return current_user()


def signed_in_user() -> User:
    """The caller, or a 401 problem naming both ways in."""
    user = api_user()
    if user is None:
        raise BearerChallenge("Send a personal API token ('Authorization: Bearer <token>'; make "
                              "one on your account page) or sign in as staff (session cookie).")
    return user


def api_role(*roles: StaffRole) -> Callable[[F], F]:
    """Allow an endpoint only to staff with one of these roles (401, else 403)."""
    allowed = ", ".join(r.value for r in roles)
    return role_required(roles, signed_out=signed_in_user, user_of_request=api_user,
                         forbidden=f"This needs one of the roles: {allowed}.")


def require_trust(organisation_id: int, code: str) -> None:
    """A 403 problem unless the caller may see this trust."""
    if not signed_in_user().can_see_organisation(organisation_id):
        abort(403, description=f"Your account does not give access to the trust '{code}'.")
