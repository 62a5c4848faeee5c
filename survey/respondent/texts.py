"""Stopping text messages from a personal link (replying STOP does the same)."""

from __future__ import annotations

from flask import render_template

from survey.db import get_session
from survey.respondent import bp
from survey.respondent.forms import StopTextsForm, validated_post
from survey.respondent.links import invalid_link, token_route
from survey.services import opt_outs
from survey.services.respondent import LinkState
from survey.web import commit_after


@bp.route("/<token>/texts", methods=["GET", "POST"])
@token_route
def texts(token: str) -> str:
    """Show whether texts are sent; a POST stops them (email, if any, still comes)."""
    form = StopTextsForm()
    stop = form.is_submitted() and validated_post(form)
    db = get_session()
    shown = commit_after(lambda: opt_outs.texts_for_link(db, token, stop=stop))
    if shown is None:
        invalid_link(LinkState.UNKNOWN)
    return render_template("respondent/texts.html", form=form, token=token, shown=shown)
