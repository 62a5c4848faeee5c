"""Dashboard pages: a trust list for study staff, one trust's figures for its monitor."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.auth.access import current_user, require_organisation, require_role
from survey.charts import line_chart
from survey.dashboard import bp
from survey.db import get_session
from survey.models import Organisation, StaffRole
from survey.services import dashboard as figures
from survey.services import studies as study_service

ALL_STAFF = (StaffRole.ADMIN, StaffRole.RESEARCHER, StaffRole.TRUST_MONITOR)


@bp.route("/")
@require_role(*ALL_STAFF)
def index() -> str | WerkzeugResponse:
    """A monitor goes straight to their trust; study staff choose one."""
    user = current_user()
    assert user is not None
    db = get_session()
    if user.role == StaffRole.TRUST_MONITOR:
        organisation = db.get(Organisation, user.organisation_id)
        if organisation is None:
            abort(403)
        return redirect(url_for("dashboard.trust", code=organisation.code))
    organisations = db.scalars(select(Organisation).order_by(Organisation.name)).all()
    return render_template("dashboard/index.html", organisations=organisations)


@bp.route("/<code>")
@require_role(*ALL_STAFF)
def trust(code: str) -> str:
    """One trust's dashboard for one study (the first, unless ?study= names another)."""
    db = get_session()
    organisation = db.scalar(select(Organisation).where(Organisation.code == code))
    if organisation is None:
        abort(404)
    require_organisation(organisation.id)
    studies = study_service.in_order_created(db)
    if not studies:
        return render_template("dashboard/trust.html", organisation=organisation, studies=[],
                               board=None, charts={})
    wanted = request.args.get("study")
    study = next((s for s in studies if s.code == wanted), studies[0])
    board = figures.build(db, study, organisation.id, current_app.config["MIN_GROUP_SIZE"])
    labels = [w.label for w in board.waves]
    charts = {
        scale: line_chart(
            f"{scale.replace('_', ' ').capitalize()}: mean score by wave",
            labels,
            {figures.GROUP_LABELS[g]: [row[w.index].value for w in board.waves]
             for g, row in groups.items()},
        )
        for scale, groups in board.trends.items()
    }
    return render_template("dashboard/trust.html", organisation=organisation, studies=studies,
                           board=board, charts=charts, group_labels=figures.GROUP_LABELS)
