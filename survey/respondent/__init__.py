"""The respondent pages: /r/<token> consent, questionnaire pages, save and resume, withdraw."""

from flask import Blueprint

bp = Blueprint("respondent", __name__, url_prefix="/r")

from survey.respondent import consent, entry, pages, thanks, withdraw  # noqa: E402,F401

__all__ = ["bp"]
