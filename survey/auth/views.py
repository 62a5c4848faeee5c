"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.auth import bp
from survey.auth.forms import LoginForm
from survey.db import get_session, utcnow
from survey.extensions import limiter, staff_login_limit
from survey.models import User
from survey.services.audit import record_event


def _safe_next(target: str | None) -> str:
    """Only follow same-site relative redirects after sign-in."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("staff.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(staff_login_limit, methods=["POST"])
def login() -> str | WerkzeugResponse:
    """Show the sign-in form; sign in on a correct email and password."""
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        email = (form.email.data or "").strip().lower()
        user = db.scalar(select(User).where(func.lower(User.email) == email))
        if user is not None and user.active and user.check_password(form.password.data or ""):
            session.clear()
            session["user_id"] = user.id
            user.last_login_at = utcnow()
            record_event(db, user, "login", "user", user.id)
            db.commit()
            return redirect(_safe_next(request.args.get("next")))
        flash("That email and password do not match an account.", "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> WerkzeugResponse:
    """Sign out."""
    session.clear()
    return redirect(url_for("auth.login"))
