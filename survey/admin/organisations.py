"""Trusts and teams for administrators: the list with participant counts, add a trust or team, edit a team."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectChoice

from survey.admin import bp
from survey.admin.forms import TeamEditForm, TeamForm, TrustForm, save_or_show
from survey.auth.access import current_user, require_role
from survey.db import get_session
from survey.models import StaffRole
from survey.services import organisations


def _page(trust_form: TrustForm, team_form: TeamForm) -> str | Response:
    """The trusts page; 400 when a posted form was refused."""
    db = get_session()
    trusts = organisations.trusts_with_teams(db)
    html = render_template("admin/trusts.html", trusts=trusts, trust_form=trust_form,
                           team_form=team_form, counts=organisations.participants_per_team(db))
    refused = trust_form.errors or trust_form.form_errors or team_form.errors or team_form.form_errors
    return Response(html, status=400) if request.method == "POST" and refused else html


def _forms() -> tuple[TrustForm, TeamForm]:
    """Both forms of the page, told apart by their prefixes; the team form lists the trusts."""
    team_form = TeamForm(prefix="team")
    team_form.trust.choices = [SelectChoice(t.code, f"{t.name} ({t.code})")
                               for t in organisations.trusts_with_teams(get_session())]
    return TrustForm(prefix="trust"), team_form


@bp.route("/trusts")
@require_role(StaffRole.ADMIN)
def trusts() -> str | Response:
    """Every trust with its teams and how many participants each team has."""
    return _page(*_forms())


@bp.route("/trusts", methods=["POST"])
@require_role(StaffRole.ADMIN)
def add_trust() -> str | Response | WerkzeugResponse:
    """Add a trust (code and name)."""
    trust_form, team_form = _forms()
    if trust_form.validate_on_submit():
        saved = save_or_show(
            trust_form,
            lambda: organisations.create_organisation(
                get_session(), current_user(), trust_form.code.data or "", trust_form.name.data or ""),
            lambda trust: f"Added the trust {trust.name} ({trust.code}).",
            "admin.trusts")
        if saved is not None:
            return saved
    return _page(trust_form, team_form)


@bp.route("/teams", methods=["POST"])
@require_role(StaffRole.ADMIN)
def add_team() -> str | Response | WerkzeugResponse:
    """Add a team to a trust (code, name, service type)."""
    trust_form, team_form = _forms()
    db = get_session()
    trust = organisations.organisation_by_code(db, team_form.trust.data or "")
    if team_form.validate_on_submit() and trust is not None:
        saved = save_or_show(
            team_form,
            lambda: organisations.create_team(
                db, current_user(), trust, team_form.code.data or "", team_form.name.data or "",
                team_form.service_type.data or ""),
            lambda team: f"Added the team {team.name} ({team.code}) to {trust.name}.",
            "admin.trusts")
        if saved is not None:
            return saved
    return _page(trust_form, team_form)


@bp.route("/teams/<code>/edit", methods=["GET", "POST"])
@require_role(StaffRole.ADMIN)
def edit_team(code: str) -> str | Response | WerkzeugResponse:
    """Change a team's name or service type (its code and trust stay)."""
    db = get_session()
    team = organisations.team_by_code(db, code)
    if team is None:
        abort(404)
    form = TeamEditForm(obj=team)
    if form.validate_on_submit():
        saved = save_or_show(
            form,
            lambda: organisations.update_team(db, current_user(), team, form.name.data or "",
                                              form.service_type.data or ""),
            lambda changed: f"Saved {team.name} ({team.code})." if changed else "Nothing was changed.",
            "admin.trusts")
        if saved is not None:
            return saved
    html = render_template("admin/team_form.html", team=team, form=form)
    return Response(html, status=400) if request.method == "POST" else html
