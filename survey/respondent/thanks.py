"""The thank-you page, with the person's own scores over time when the study allows it."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.db import get_session
from survey.respondent import bp
from survey.respondent.charts import score_chart
from survey.respondent.links import LinkState, invalid_link, resolve, token_route
from survey.services.responses import find_response, own_scores, pinned_instrument


@bp.route("/<token>/thanks")
@token_route
def thanks(token: str) -> str | WerkzeugResponse:
    """Thank the person; reloading it (or resubmitting) changes nothing."""
    link = resolve(token)
    if link.state != LinkState.COMPLETED or link.invitation is None:
        if link.state == LinkState.OPEN:
            return redirect(url_for("respondent.entry", token=token), 303)
        invalid_link(link.state)
    invitation = link.invitation
    participant = invitation.participant
    chart = None
    db = get_session()
    response = find_response(db, invitation)
    if participant.study.show_own_scores and response is not None:
        chart = score_chart(pinned_instrument(response), own_scores(db, participant))
    return render_template(
        "respondent/thanks.html", token=token, wave=invitation.wave, chart=chart,
        show_own_scores=participant.study.show_own_scores,
    )
