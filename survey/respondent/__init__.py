"""The respondent pages: /r/<token> consent, questionnaire pages, save and resume, withdraw."""

from flask import Blueprint

from survey.respondent.markup import radio_field

bp = Blueprint("respondent", __name__, url_prefix="/r")
bp.add_app_template_global(radio_field, "radio_field")

from survey.respondent import (  # noqa: E402,F401
    consent,
    display,
    emails,
    entry,
    language,
    later,
    offline,
    pages,
    support,
    texts,
    thanks,
    withdraw,
)

__all__ = ["bp"]
