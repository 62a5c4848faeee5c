"""Participant information and consent, asked once (again only for a new consent version)."""

from __future__ import annotations

from flask import current_app, render_template
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.db import get_session
from survey.i18n import current_language
from survey.respondent import bp
from survey.respondent.forms import ConsentForm, validated_post
from survey.respondent.links import follow, token_route
from survey.services import respondent
from survey.services.instrument_versions import CONSENT_DIR
from survey.web import commit_after


def consent_template(version: str, language: str = "en") -> str:
    """The template holding a consent version's text (in `language` when it has one)."""
    if language != "en" and (CONSENT_DIR / f"v{version}.{language}.html").is_file():
        return f"respondent/consent/v{version}.{language}.html"
    return f"respondent/consent/v{version}.html"


@bp.route("/<token>/consent", methods=["GET", "POST"])
@token_route
def consent(token: str) -> str | WerkzeugResponse:
    """Show the study information; record the decision with its time and version."""
    form = ConsentForm()
    decision = None
    if form.is_submitted() and validated_post(form):
        decision = form.decision.data == "yes"
    db = get_session()
    shown = commit_after(lambda: respondent.give_consent(db, token, decision))
    if isinstance(shown, respondent.Goto):
        return follow(token, shown)
    if shown.declined:
        return render_template("respondent/declined.html")
    return render_template(
        "respondent/consent.html", form=form, token=token, version=shown.version,
        consent_text=consent_template(shown.version, current_language()),
        min_group_size=current_app.config.get("MIN_GROUP_SIZE", 5), study=shown.study,
    )
