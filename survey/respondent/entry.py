"""The personal link itself: send the person to consent, their next page, or thanks."""

from __future__ import annotations

from flask import redirect, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.db import get_session
from survey.respondent import bp
from survey.respondent.links import require_open, token_route
from survey.services.responses import find_response, questionnaire


@bp.route("/<token>")
@token_route
def entry(token: str) -> WerkzeugResponse:
    """Resume at the first page not saved yet (the last page once every page is saved)."""
    invitation = require_open(token)
    response = find_response(get_session(), invitation)
    number = 1
    if response is not None:
        plan = questionnaire(invitation, response)
        number = plan.first_unsaved(response) or plan.total
    return redirect(url_for("respondent.page", token=token, number=number), 303)
