"""Staff home."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.auth.access import current_user, require_role
from survey.db import get_session
from survey.models import Organisation, Participant, StaffRole, Study, Team
from survey.staff import bp


@bp.route("/")
@require_role()
def home() -> str:
    """Counts and links suited to the signed-in role."""
    db = get_session()
    user = current_user()
    assert user is not None
    org_query = select(Organisation).order_by(Organisation.name)
    if user.role == StaffRole.TRUST_MONITOR:
        org_query = org_query.where(Organisation.id == user.organisation_id)
    organisations = list(db.scalars(org_query))
    studies = list(db.scalars(select(Study).order_by(Study.name)))
    counts = dict(
        db.execute(
            select(Team.organisation_id, func.count(Participant.id))
            .join(Participant, Participant.team_id == Team.id)
            .group_by(Team.organisation_id)
        ).all()
    )
    return render_template(
        "staff/home.html", user=user, organisations=organisations, studies=studies,
        counts=counts,
    )



@bp.route("")
def home_redirect() -> WerkzeugResponse:
    """/staff goes to /staff/."""
    return redirect(url_for("staff.home"))
