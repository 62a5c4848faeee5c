"""Participant information and consent, asked once (again only for a new consent version)."""

from __future__ import annotations

from flask import current_app, redirect, render_template, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.db import get_session
from survey.respondent import bp
from survey.respondent.forms import ConsentForm, validated_post
from survey.respondent.links import require_open, token_route
from survey.services.consent import needs_consent, record_consent


def consent_template(version: str) -> str:
    """The template holding a consent version's text."""
    return f"respondent/consent/v{version}.html"


@bp.route("/<token>/consent", methods=["GET", "POST"])
@token_route
def consent(token: str) -> str | WerkzeugResponse:
    """Show the study information; record the decision with its time and version."""
    invitation = require_open(token, consent_done=False)
    participant = invitation.participant
    if not needs_consent(participant):
        return redirect(url_for("respondent.entry", token=token), 303)
    version = participant.study.consent_version
    form = ConsentForm()
    if form.is_submitted() and validated_post(form):
        given = form.decision.data == "yes"
        db = get_session()
        record_consent(db, participant, given, version)
        db.commit()
        if given:
            return redirect(url_for("respondent.entry", token=token), 303)
        return render_template("respondent/declined.html")
    return render_template(
        "respondent/consent.html", form=form, token=token, version=version,
        consent_text=consent_template(version),
        min_group_size=current_app.config.get("MIN_GROUP_SIZE", 5),
        study=participant.study,
    )
