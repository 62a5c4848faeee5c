"""Dashboard pages: a trust list for study staff; a trust's (or team's) figures, page and CSV."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.auth.access import current_user, require_organisation, require_role
from survey.dashboard import bp
from survey.dashboard.charts import LineChart, line_chart
from survey.db import get_session
from survey.models import Organisation, StaffRole, Study, Team
from survey.services import dashboard as figures
from survey.services import dashboard_report as report
from survey.services import dashboard_scorecard as scorecard
from survey.services import studies as study_service

ALL_STAFF = (StaffRole.ADMIN, StaffRole.RESEARCHER, StaffRole.TRUST_MONITOR)


@bp.app_template_filter("dp1")
def _dp1(value: float | None, signed: bool = False) -> str:
    return report.one_dp(value, signed)


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


def _board(code: str, team_code: str | None
           ) -> tuple[Organisation, Team | None, Sequence[Study], figures.TrustDashboard | None]:
    """The trust (403 unless the user may see it), the team, the studies and the built figures."""
    db = get_session()
    organisation = db.scalar(select(Organisation).where(Organisation.code == code))
    if organisation is None:
        abort(404)
    require_organisation(organisation.id)
    team = None
    if team_code is not None:
        team = db.scalar(select(Team).where(Team.code == team_code,
                                            Team.organisation_id == organisation.id))
        if team is None:
            abort(404)
    studies = study_service.in_order_created(db)
    if not studies:
        return organisation, team, studies, None
    wanted = request.args.get("study")
    study = next((s for s in studies if s.code == wanted), studies[0])
    board = figures.build(db, study, organisation.id, current_app.config["MIN_GROUP_SIZE"],
                          team_id=team.id if team else None)
    return organisation, team, studies, board


def _charts(board: figures.TrustDashboard) -> dict[str, LineChart]:
    labels = [w.label for w in board.waves]
    return {
        scale: line_chart(
            f"{report.scale_label(scale)}: mean score by wave",
            labels,
            {figures.GROUP_LABELS[g]: [row[w.index].value for w in board.waves]
             for g, row in groups.items()},
            {figures.GROUP_LABELS[g]: [row[w.index].interval for w in board.waves]
             for g, row in groups.items()},
        )
        for scale, groups in board.trends.items()
    }


def _page(code: str, team_code: str | None) -> str:
    organisation, team, studies, board = _board(code, team_code)
    return render_template("dashboard/trust.html", organisation=organisation, team=team,
                           studies=studies, board=board,
                           charts=_charts(board) if board else {},
                           glance=scorecard.glance(board) if board else None,
                           symbols=scorecard.SYMBOLS,
                           group_labels=figures.GROUP_LABELS, report=report)


def _csv(code: str, team_code: str | None) -> Response:
    organisation, team, _studies, board = _board(code, team_code)
    if board is None:
        abort(404)
    name = "-".join(p for p in (organisation.code, team.code if team else "", board.study.code) if p)
    return Response(report.csv_text(board), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}-dashboard.csv"',
        "Cache-Control": "no-store"})


@bp.route("/<code>")
@require_role(*ALL_STAFF)
def trust(code: str) -> str:
    """One trust's dashboard for one study (the first, unless ?study= names another)."""
    return _page(code, None)


@bp.route("/<code>/figures.csv")
@require_role(*ALL_STAFF)
def trust_csv(code: str) -> Response:
    """The trust dashboard's figures as CSV, withheld cells still withheld."""
    return _csv(code, None)


@bp.route("/<code>/teams/<team_code>")
@require_role(*ALL_STAFF)
def team(code: str, team_code: str) -> str:
    """One team's figures, withheld together with its sibling teams."""
    return _page(code, team_code)


@bp.route("/<code>/teams/<team_code>/figures.csv")
@require_role(*ALL_STAFF)
def team_csv(code: str, team_code: str) -> Response:
    """The team view's figures as CSV."""
    return _csv(code, team_code)
