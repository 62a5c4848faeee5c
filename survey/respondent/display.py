"""The display settings of the respondent pages: one question per page, larger text.

A small form on every survey page (a plain POST, no JavaScript needed). The choice is stored
with the participant, so it holds on every page and device of their links; the templates
read it through the `display` global.
"""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import BooleanField, HiddenField, IntegerField
from wtforms.validators import NumberRange, Optional

from survey.db import get_session
from survey.respondent import bp
from survey.respondent.forms import validated_post
from survey.respondent.links import back_to, follow, token_route
from survey.services import preferences, respondent
from survey.services.preferences import Display
from survey.web import commit_after


class DisplayForm(FlaskForm):
    """The two display choices, and the page (or question) the form was on."""

    one_question = BooleanField(lazy_gettext("Show one question at a time"))
    larger_text = BooleanField(lazy_gettext("Make the text larger"))
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=10_000)])
    back = HiddenField()  # the page to go back to when `page` is not given


def display_of_request() -> Display:
    """The display choices of the current page's link (the defaults without one)."""
    token = (request.view_args or {}).get("token")
    if not token:
        return Display()
    return preferences.link_display(get_session(), str(token)) or Display()


bp.add_app_template_global(display_of_request, "respondent_display")


@bp.route("/<token>/display", methods=["POST"])
@token_route
def display(token: str) -> WerkzeugResponse:
    """Store the person's display choices; back to the same question or page in the new mode."""
    form = DisplayForm()
    if not validated_post(form):  # only a page number out of range gets here
        return back_to(token, "")
    chosen = Display(bool(form.one_question.data), bool(form.larger_text.data))
    db = get_session()
    before = commit_after(lambda: preferences.set_display(db, token, chosen))
    if before is None:
        return follow(token, respondent.Goto(respondent.Where.UNKNOWN_LINK))
    if form.page.data is None:
        return back_to(token, form.back.data or "")
    return follow(token, respondent.same_place(db, token, form.page.data, before.one_question))
