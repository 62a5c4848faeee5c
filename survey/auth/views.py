"""Sign in (password, then second factor), set up two-factor sign-in, the account page, sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.auth import bp
from survey.auth.access import current_user, require_role
from survey.auth.forms import ApiTokenForm, CodeForm, ConfirmForm, LoginForm
from survey.auth.sessions import begin_step, demo_mode, pending, session_token, sign_in_fully, sign_out
from survey.db import get_session, writes_on_get
from survey.extensions import limiter, staff_login_limit
from survey.models import User
from survey.services import api_tokens, sign_in, staff_sessions
from survey.services.errors import InputError
from survey.web import commit_after


def _safe_next(target: str | None) -> str:
    """Only follow same-site relative redirects after sign-in."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("staff.home")


def _finish(user: User, method: str, next_url: str | None) -> WerkzeugResponse:
    """Record the sign-in, start the session and go where the person was heading."""
    db = get_session()
    token = commit_after(lambda: staff_sessions.start(db, user, method))
    sign_in_fully(user, token)
    return redirect(_safe_next(next_url))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(staff_login_limit, methods=["POST"])
def login() -> str | WerkzeugResponse:
    """Show the sign-in form; on a correct password go on to the second factor (or sign in)."""
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        # A failed attempt is audited (and committed) too.
        email, password = form.email.data or "", form.password.data or ""
        try:
            user = commit_after(lambda: sign_in.check_password(db, email, password, demo_mode=demo_mode()),
                                record_refusal=True)
        except InputError as exc:
            flash(exc.by_field().get("email", str(exc)), "error")
            return render_template("auth/login.html", form=form)
        next_url = _safe_next(request.args.get("next"))
        if user is None:
            flash("That email and password do not match an account.", "error")
        elif user.has_second_factor:
            begin_step(user, "code", next_url)
            return redirect(url_for("auth.second_factor"))
        elif user.needs_second_factor(demo_mode()):
            begin_step(user, "enrol", next_url)
            flash("Your account can see research data, so it needs two-factor sign-in. "
                  "Set it up now; it takes two minutes.", "info")
            return redirect(url_for("auth.enrol"))
        else:
            return _finish(user, "password", next_url)
    return render_template("auth/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(staff_login_limit, methods=["POST"])
def second_factor() -> str | WerkzeugResponse | tuple[str, int]:
    """Ask for the code from the authenticator app (or a recovery code)."""
    found = pending("code")
    if found is None:
        flash("Please sign in with your email and password first.", "error")
        return redirect(url_for("auth.login"))
    user, next_url = found
    form = CodeForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            # A wrong code is audited (and committed) too.
            method = commit_after(lambda: sign_in.check_second_factor(db, user, form.code.data or ""))
        except InputError as exc:
            form.code.errors = [exc.by_field().get("code", "Wait, then try again.")]
            return render_template("auth/second_factor.html", form=form), 429
        if method is not None:
            if method == "recovery":
                flash(f"You signed in with a recovery code; {user.recovery_codes_left} are left. "
                      "Each works once: make new ones from your account page.", "info")
            return _finish(user, method, next_url)
        form.code.errors = ["That code is not right, or it was already used. "
                            "Type the 6 digits your app shows now, or a recovery code."]
    return render_template("auth/second_factor.html", form=form)


def _enrolling() -> tuple[User, bool, str | None] | None:
    """Who is setting up a second factor: a pending sign-in (required) or a signed-in account."""
    if (found := pending("enrol")) is not None:
        return found[0], True, found[1]
    user = current_user()
    return (user, False, None) if user is not None else None


@bp.route("/account/two-factor", methods=["GET", "POST"])
@writes_on_get
@limiter.limit(staff_login_limit, methods=["POST"])
def enrol() -> str | WerkzeugResponse:
    """Set up TOTP: scan the QR code (or type the secret), then confirm with a code."""
    found = _enrolling()
    if found is None:
        return redirect(url_for("auth.login", next=request.full_path))
    user, required, next_url = found
    if user.has_second_factor:
        flash("Two-factor sign-in is already set up for your account.", "info")
        return redirect(url_for("auth.account"))
    db = get_session()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = commit_after(lambda: sign_in.confirm_enrolment(db, user, form.code.data or ""),
                                 record_refusal=True)  # a wrong code is audited
        except InputError as exc:
            form.code.errors = [exc.by_field().get("code", "That code does not match.")]
        else:
            if required:
                return _show_codes_after_sign_in(user, codes, next_url)
            return render_template("auth/recovery_codes.html", codes=codes,
                                   continue_url=url_for("auth.account"))
    secret = commit_after(lambda: sign_in.start_enrolment(user))  # the same until confirmed
    return render_template("auth/enrol.html", form=form, required=required,
                           qr_svg=sign_in.qr_svg(user, secret),
                           secret=sign_in.secret_in_groups(secret))


def _show_codes_after_sign_in(user: User, codes: list[str], next_url: str | None) -> str:
    """A required set-up finishes the sign-in; the recovery codes are shown this once."""
    db = get_session()
    token = commit_after(lambda: staff_sessions.start(db, user, "totp"))
    sign_in_fully(user, token)
    return render_template("auth/recovery_codes.html", codes=codes, continue_url=_safe_next(next_url))


@bp.route("/account")
@require_role()
def account() -> str:
    """The signed-in person's account: role, trust, two-factor sign-in, recovery codes, API tokens."""
    user = current_user()
    assert user is not None
    return _account_page(user, ApiTokenForm())


def _account_page(user: User, token_form: ApiTokenForm) -> str:
    """The account page, with the personal API tokens and the form that makes one."""
    return render_template("auth/account.html", user=user, form=ConfirmForm(), token_form=token_form,
                           tokens=api_tokens.for_owner(get_session(), user))


@bp.route("/account/api-tokens", methods=["POST"])
@require_role()
def new_api_token() -> str | tuple[str, int]:
    """Make a named personal API token and show it this once (it is stored only as a hash)."""
    user = current_user()
    assert user is not None
    form = ApiTokenForm()
    if form.validate_on_submit():
        db = get_session()
        name = form.name.data or ""
        try:
            row, token = commit_after(lambda: api_tokens.create(db, user, name))
        except InputError as exc:
            form.name.errors = [exc.by_field().get("name", str(exc))]
        else:
            return render_template("auth/api_token_created.html", row=row, token=token)
    return _account_page(user, form), 400


@bp.route("/account/api-tokens/<int:token_id>/revoke", methods=["POST"])
@require_role()
def revoke_api_token(token_id: int) -> WerkzeugResponse:
    """Revoke one of the signed-in person's own tokens."""
    user = current_user()
    assert user is not None
    if ConfirmForm().validate_on_submit():
        db = get_session()
        try:
            row = commit_after(lambda: api_tokens.revoke(db, user, token_id))
        except InputError as exc:
            flash(exc.by_field().get(api_tokens.REFUSAL_FIELD, str(exc)), "error")
        else:
            flash(f"The token '{row.name}' is revoked: scripts using it now get 401.", "info")
    return redirect(url_for("auth.account"))


@bp.route("/account/recovery-codes", methods=["POST"])
@require_role()
def new_recovery_codes() -> str | WerkzeugResponse:
    """Replace the recovery codes (the old ones stop working); show the new ones once."""
    user = current_user()
    assert user is not None
    db = get_session()
    try:
        codes = commit_after(lambda: sign_in.renew_recovery_codes(db, user))
    except InputError as exc:
        flash(exc.by_field().get("code", "Set up two-factor sign-in first."), "error")
        return redirect(url_for("auth.account"))
    return render_template("auth/recovery_codes.html", codes=codes, continue_url=url_for("auth.account"))


@bp.route("/logout", methods=["POST"])
def logout() -> WerkzeugResponse:
    """Sign out this browser, ending its session on the server (other sessions stay signed in)."""
    user, token = current_user(), session_token()
    if user is not None and token is not None:
        db = get_session()
        commit_after(lambda: staff_sessions.sign_out(db, user, token))
    sign_out()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))
