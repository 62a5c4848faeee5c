"""Withdrawal from the study, from any page and any email."""

from __future__ import annotations

from flask import render_template
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.db import get_session
from survey.respondent import bp
from survey.respondent.forms import WithdrawForm, validated_post
from survey.respondent.links import follow, token_route
from survey.services import respondent
from survey.web import commit_after


@bp.route("/<token>/withdraw", methods=["GET", "POST"])
@token_route
def withdraw(token: str) -> str | WerkzeugResponse:
    """Ask whether to keep or delete the answers; then stop all contact.

    Works with any link of a participant still taking part, even a closed one.
    """
    form = WithdrawForm()
    keep = None
    if form.is_submitted() and validated_post(form):
        keep = form.keep.data == "keep"
    db = get_session()
    shown = commit_after(lambda: respondent.withdraw(db, token, keep))
    if isinstance(shown, respondent.Goto):
        return follow(token, shown)
    if shown.kept is not None:
        return render_template("respondent/withdrawn.html", kept=shown.kept)
    return render_template("respondent/withdraw.html", form=form, token=token, back=shown.back)
