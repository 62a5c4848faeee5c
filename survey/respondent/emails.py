"""Stopping emails for a study from a personal link, and the one-click unsubscribe of RFC 8058.

Every invitation and reminder email carries List-Unsubscribe: <this page> and
List-Unsubscribe-Post: List-Unsubscribe=One-Click. A mail client's one-click POST carries that
body and no CSRF token (RFC 8058 forbids asking for one); it is accepted only at a working
personal link, whose token is the authority. Anything else posted is the page's own form and
needs its CSRF token. A GET only shows the page and asks to confirm. Neither withdraws.
"""

from __future__ import annotations

from flask import abort, render_template, request

from survey.db import get_session
from survey.extensions import csrf
from survey.respondent import bp
from survey.respondent.forms import StopEmailsForm, validated_post
from survey.respondent.links import invalid_link, token_route
from survey.services import opt_outs
from survey.services.respondent import LinkState
from survey.web import commit_after

ONE_CLICK = ("List-Unsubscribe", "One-Click")


def _one_click() -> bool:
    """A POST whose only field is List-Unsubscribe=One-Click (form-encoded or multipart)."""
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return False
    return list(request.form.items(multi=True)) == [ONE_CLICK] and not request.files


@bp.route("/<token>/emails", methods=["GET", "POST"])
@csrf.exempt  # the one-click POST has no CSRF token (RFC 8058); the page's form checks its own
@token_route
def emails(token: str) -> str:
    """Show whether emails are sent; a POST (one-click, or the form) stops them."""
    form = StopEmailsForm()
    source = "link"
    if request.method == "POST" and _one_click():
        stop, source = True, "one-click"
    elif request.method == "POST":
        stop = validated_post(form)
        if not stop:
            abort(400)
    else:
        stop = False
    db = get_session()
    shown = commit_after(
        lambda: opt_outs.emails_for_link(db, token, stop=stop, source=source))
    if shown is None:
        invalid_link(LinkState.UNKNOWN)
    return render_template("respondent/emails.html", form=form, token=token, shown=shown)
