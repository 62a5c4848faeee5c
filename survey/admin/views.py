"""Admin views (being built)."""

from __future__ import annotations

from survey.admin import bp
from survey.auth.access import require_role
from survey.models import StaffRole


@bp.route("/")
@require_role(StaffRole.ADMIN, StaffRole.RESEARCHER)
def index() -> str:
    """Placeholder until the studies list lands."""
    return "Participants & studies"
