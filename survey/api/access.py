"""Who may call the API: signed-in staff (session cookie), by role and trust."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort

from survey.auth.access import current_user, role_required
from survey.models import StaffRole, User

F = TypeVar("F", bound=Callable[..., Any])

ALL_STAFF = (StaffRole.ADMIN, StaffRole.RESEARCHER, StaffRole.TRUST_MONITOR)
RESEARCH = (StaffRole.ADMIN, StaffRole.RESEARCHER)


def signed_in_user() -> User:
    """The signed-in staff user, or a 401 problem."""
    user = current_user()
    if user is None:
        abort(401, description="Sign in as staff first: this API uses the staff session cookie.")
    return user


def api_role(*roles: StaffRole) -> Callable[[F], F]:
    """Allow an endpoint only to signed-in staff with one of these roles (401, else 403)."""
    allowed = ", ".join(r.value for r in roles)
    return role_required(roles, signed_out=signed_in_user,
                         forbidden=f"This needs one of the roles: {allowed}.")


def require_trust(organisation_id: int, code: str) -> None:
    """A 403 problem unless the signed-in user may see this trust."""
    if not signed_in_user().can_see_organisation(organisation_id):
        abort(403, description=f"Your account does not give access to the trust '{code}'.")
