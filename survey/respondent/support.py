"""The support page: where to turn if the questions bring up something difficult.

Linked from every respondent page and beside every question marked sensitive. It works for
any link of the study, open or closed, completed or withdrawn, shows nothing about the person
and writes nothing. An unknown link still shows PeerPulse's default support (with 404, so
that guessing links is counted as for every other page).
"""

from __future__ import annotations

from flask import make_response, render_template
from flask.wrappers import Response as FlaskResponse

from survey.db import get_session
from survey.i18n import current_language
from survey.respondent import bp
from survey.respondent.links import token_route
from survey.services import support as support_service


@bp.route("/<token>/support")
@token_route
def support(token: str) -> FlaskResponse:
    """The study's support contacts (or the default ones) in the page's language."""
    contacts = support_service.support_for_link(get_session(), token, current_language())
    known = contacts is not None  # an unknown link's page links to none of its pages
    page = render_template("respondent/support.html", token=token if known else None,
                           contacts=contacts or [])
    return make_response(page, 200 if known else 404)
