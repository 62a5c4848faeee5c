"""Withdrawal from the study, from any page and any email."""

from __future__ import annotations

from flask import render_template

from survey.db import get_session
from survey.respondent import bp
from survey.respondent.forms import WithdrawForm, validated_post
from survey.respondent.links import LinkState, invalid_link, resolve, token_route
from survey.services.withdrawal import withdraw as withdraw_participant


@bp.route("/<token>/withdraw", methods=["GET", "POST"])
@token_route
def withdraw(token: str) -> str:
    """Ask whether to keep or delete the answers; then stop all contact.

    Works with any link of a participant still taking part, even a closed one.
    """
    link = resolve(token)
    if link.invitation is None or not link.invitation.participant.is_active:
        invalid_link(LinkState.UNKNOWN)
    form = WithdrawForm()
    if form.is_submitted() and validated_post(form):
        keep = form.keep.data == "keep"
        db = get_session()
        withdraw_participant(db, link.invitation.participant, keep_data=keep)
        db.commit()
        return render_template("respondent/withdrawn.html", kept=keep)
    back = link.state == LinkState.OPEN
    return render_template("respondent/withdraw.html", form=form, token=token, back=back)
