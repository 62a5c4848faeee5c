"""Remind me later: the respondent chooses when their next reminder comes."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext

from survey.db import get_session
from survey.respondent import bp
from survey.respondent.forms import RemindLaterForm, validated_post
from survey.respondent.links import invalid_link, token_route
from survey.services import reminders
from survey.services.errors import InputError
from survey.services.respondent import LinkState
from survey.web import commit_after


@bp.route("/<token>/later", methods=["GET", "POST"])
@token_route
def later(token: str) -> tuple[str, int] | str:
    """Show the choice; a valid POST asks for one reminder then (within the sending hours)."""
    db = get_session()
    shown = reminders.later_for_link(db, token)
    if shown is None:
        invalid_link(LinkState.UNKNOWN)
    form = RemindLaterForm()
    form.offer_hours(shown.hours)
    if form.is_submitted() and validated_post(form):
        days, hour = int(form.days.data), int(form.hour.data) if form.hour.data else None
        try:
            shown = commit_after(lambda: reminders.later_for_link(db, token, days=days, hour=hour))
        except InputError as exc:
            for name, message in exc.by_field().items():
                getattr(form, name).errors = [gettext(message)]
    assert shown is not None
    page = render_template("respondent/later.html", form=form, token=token, shown=shown)
    return (page, 400) if form.errors else page
