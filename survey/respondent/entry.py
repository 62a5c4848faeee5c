"""The personal link itself: send the person to consent, their next page, or thanks."""

from __future__ import annotations

from werkzeug.wrappers import Response as WerkzeugResponse

from survey.db import get_session
from survey.respondent import bp
from survey.respondent.links import follow, token_route
from survey.services import respondent


@bp.route("/<token>")
@token_route
def entry(token: str) -> WerkzeugResponse:
    """Resume at the first page not saved yet (the last page once every page is saved)."""
    return follow(token, respondent.entry(get_session(), token))
