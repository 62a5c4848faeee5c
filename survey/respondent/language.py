"""The language switch of the respondent pages, and the language each page is shown in."""

from __future__ import annotations

from flask import request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response as WerkzeugResponse

from instruments.languages import LANGUAGES
from survey.db import get_session
from survey.i18n import change_language, register_language_source
from survey.respondent import bp
from survey.respondent.forms import REVISION_FIELD
from survey.respondent.links import back_to, follow, token_route
from survey.services import languages, respondent
from survey.services.errors import InputError
from survey.web import commit_after

#: The page form's switch button (a survey page keeps typed answers when the language changes).
SWITCH_FIELD = "switch_language"


def _language_of_link() -> str | None:
    """The participant's language, for the page of their link (None: unknown link)."""
    token = (request.view_args or {}).get("token")
    if not token:
        return None
    try:
        return languages.link_language(get_session(), str(token))
    except SQLAlchemyError:  # the database is out of reach: the error page is in the default
        return None


register_language_source(bp.name, _language_of_link)


def switch_language(token: str, language: str) -> dict[str, str]:
    """Change the link's participant's language (committed); the page's posted answers as typed."""
    if language not in LANGUAGES:
        raise BadRequest("unknown language")
    db = get_session()
    commit_after(lambda: languages.set_link_language(db, token, language))
    change_language(language)  # this request's pages are now in the new language
    return {key: value for key, value in request.form.items()
            if key not in (SWITCH_FIELD, "csrf_token", REVISION_FIELD) and value.strip()}


@bp.route("/<token>/language", methods=["POST"])
@token_route
def language(token: str) -> WerkzeugResponse:
    """Switch the participant's pages and emails to another language; back to the same page."""
    db = get_session()
    try:
        known = commit_after(lambda: languages.set_link_language(
            db, token, request.form.get("language", "")))
    except InputError:
        raise BadRequest("unknown language") from None
    if not known:
        return follow(token, respondent.Goto(respondent.Where.UNKNOWN_LINK))
    return back_to(token, request.form.get("next", ""))
