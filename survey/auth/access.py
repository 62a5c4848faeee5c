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


def require_role(*roles: StaffRole) -> Callable[[F], F]:
    """Allow a view only to signed-in staff with one of these roles (any role if none given)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if roles and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def require_organisation(organisation_id: int) -> None:
    """Abort with 403 unless the signed-in user may see this trust."""
    user = current_user()
    if user is None or not user.can_see_organisation(organisation_id):
        abort(403)
