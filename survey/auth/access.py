"""Who is signed in, and role checks applied to every staff view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, redirect, request, session, url_for

from survey.db import get_session
from survey.models import StaffRole, User

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> User | None:
    """The signed-in, active staff user of this request, or None."""
    if "current_user" not in g:
        user_id = session.get("user_id")
        user = get_session().get(User, user_id) if isinstance(user_id, int) else None
        g.current_user = user if user is not None and user.active else None
    user_or_none: User | None = g.current_user
    return user_or_none


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
