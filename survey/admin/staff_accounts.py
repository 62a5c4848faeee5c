"""Staff accounts for administrators: list, add, change role or trust, deactivate, reactivate."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectChoice

from survey.admin import bp
from survey.admin.forms import ActionForm, StaffAccountForm, StaffRoleForm, save_or_show
from survey.auth.access import current_user, require_role
from survey.db import get_session
from survey.models import Organisation, StaffRole, User
from survey.services import staff as staff_service
from survey.services.errors import InputError
from survey.web import commit_after


def _with_trusts(form: StaffRoleForm) -> StaffRoleForm:
    """Offer every trust, and "none" for the roles that see all trusts."""
    trusts = get_session().scalars(select(Organisation).order_by(Organisation.name))
    form.trust.choices = [SelectChoice("", "None (admins and researchers)"),
                          *(SelectChoice(t.code, f"{t.name} ({t.code})") for t in trusts)]
    return form


def _account_or_404(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _respond(html: str, refused: bool) -> str | Response:
    return Response(html, status=400) if refused else html


@bp.route("/staff", methods=["GET", "POST"])
@require_role(StaffRole.ADMIN)
def staff() -> str | Response | WerkzeugResponse:
    """Every staff account (never a password hash), and a form to add one."""
    db = get_session()
    form = _with_trusts(StaffAccountForm())
    if form.validate_on_submit():
        saved = save_or_show(
            form,
            lambda: staff_service.create_account(
                db, current_user(), email=form.email.data or "", role=form.role.data or "",
                password=form.password.data or "", trust_code=form.trust.data),
            lambda user: f"Added the account {user.email} ({user.role.value.replace('_', ' ')}).",
            "admin.staff")
        if saved is not None:
            return saved
    html = render_template("admin/staff.html", accounts=staff_service.all_accounts(db), form=form,
                           action_form=ActionForm(), me=current_user())
    return _respond(html, request.method == "POST")


@bp.route("/staff/<int:user_id>/edit", methods=["GET", "POST"])
@require_role(StaffRole.ADMIN)
def edit_staff(user_id: int) -> str | Response | WerkzeugResponse:
    """Change an account's role, and its trust for trust monitors."""
    db = get_session()
    account = _account_or_404(user_id)
    form = _with_trusts(StaffRoleForm())
    if request.method == "GET":
        form.role.data = account.role.value
        form.trust.data = account.organisation.code if account.organisation else ""
    if form.validate_on_submit():
        saved = save_or_show(
            form,
            lambda: staff_service.change_role(db, current_user(), account, form.role.data or "",
                                              form.trust.data),
            lambda changed: f"Saved {account.email}." if changed else "Nothing was changed.",
            "admin.staff")
        if saved is not None:
            return saved
    html = render_template("admin/staff_form.html", account=account, form=form)
    return _respond(html, request.method == "POST")


def _set_active(user_id: int, active: bool) -> WerkzeugResponse:
    """Deactivate or reactivate; refusals are flashed, nothing is written."""
    if not ActionForm().validate_on_submit():
        flash("The form had expired; please try again.", "error")
        return redirect(url_for("admin.staff"))
    db = get_session()
    account = _account_or_404(user_id)
    try:
        changed = commit_after(lambda: staff_service.set_active(db, current_user(), account, active))
    except InputError as exc:
        flash(" ".join(p.message for p in exc.problems), "error")
    else:
        if changed:
            flash(f"{account.email} {'can sign in again' if active else 'can no longer sign in'}.", "info")
    return redirect(url_for("admin.staff"))


@bp.route("/staff/<int:user_id>/deactivate", methods=["POST"])
@require_role(StaffRole.ADMIN)
def deactivate_staff(user_id: int) -> WerkzeugResponse:
    """Stop an account from signing in (not one's own)."""
    return _set_active(user_id, False)


@bp.route("/staff/<int:user_id>/reactivate", methods=["POST"])
@require_role(StaffRole.ADMIN)
def reactivate_staff(user_id: int) -> WerkzeugResponse:
    """Let a deactivated account sign in again."""
    return _set_active(user_id, True)
