"""Who is signed in, and role checks applied to every staff view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, redirect, request, url_for
from flask_login import current_user as login_current_user

from survey.models import StaffRole, User

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> User | None:
    """The signed-in, active staff user of this request (every sign-in step done), or None."""
    user = login_current_user._get_current_object()
    return user if isinstance(user, User) and user.is_authenticated else None


def role_required(
    roles: tuple[StaffRole, ...], *, signed_out: Callable[[], Any], forbidden: str | None = None,
    user_of_request: Callable[[], User | None] = current_user,
) -> Callable[[F], F]:
    """The one role check of every staff page and API endpoint.

    `signed_out` answers a request without a signed-in user (a redirect to sign in, or a 401);
    a user without one of `roles` (any role if empty) gets a 403 saying `forbidden`.
    `user_of_request` finds the user (the API's also accepts a personal API token).
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = user_of_request()
            if user is None:
                return signed_out()
            if roles and user.role not in roles:
                abort(403, description=forbidden)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def _to_sign_in() -> Any:
    """Send a signed-out person to the sign-in page, coming back here afterwards."""
    return redirect(url_for("auth.login", next=request.full_path))


def require_role(*roles: StaffRole) -> Callable[[F], F]:
    """Allow a page only to signed-in staff with one of these roles (any role if none given)."""
    return role_required(roles, signed_out=_to_sign_in)


def require_organisation(organisation_id: int) -> None:
    """Abort with 403 unless the signed-in user may see this trust."""
    user = current_user()
    if user is None or not user.can_see_organisation(organisation_id):
        abort(403)
