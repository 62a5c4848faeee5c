"""The staff navigation: each area declares its links and the roles that see them."""

from __future__ import annotations

from flask import Flask, current_app

from survey.auth.access import current_user
from survey.models import StaffRole, User

# (endpoint, label, roles); links whose endpoint is not registered are left out.
STAFF_LINKS: list[tuple[str, str, tuple[StaffRole, ...]]] = [
    ("dashboard.index", "Dashboard", (StaffRole.ADMIN, StaffRole.RESEARCHER, StaffRole.TRUST_MONITOR)),
    ("research.index", "Research", (StaffRole.ADMIN, StaffRole.RESEARCHER)),
    ("admin.index", "Participants & studies", (StaffRole.ADMIN, StaffRole.RESEARCHER)),
    ("admin.trusts", "Trusts & teams", (StaffRole.ADMIN,)),
    ("admin.staff", "Staff accounts", (StaffRole.ADMIN,)),
    ("admin.mail", "Mail", (StaffRole.ADMIN,)),
    ("admin.audit", "Audit log", (StaffRole.ADMIN,)),
    ("auth.account", "Your account", (StaffRole.ADMIN, StaffRole.RESEARCHER, StaffRole.TRUST_MONITOR)),
]


def staff_links(user: User) -> list[tuple[str, str]]:
    """The navigation links this user may follow."""
    return [
        (endpoint, label)
        for endpoint, label, roles in STAFF_LINKS
        if user.role in roles and endpoint in current_app.view_functions
    ]


def init_app(app: Flask) -> None:
    """Make the helpers available to templates."""
    app.jinja_env.globals["current_staff"] = current_user
    app.jinja_env.globals["staff_links"] = staff_links
