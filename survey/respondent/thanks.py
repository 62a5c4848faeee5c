"""The thank-you page, with the person's own scores over time when the study allows it."""

from __future__ import annotations

from flask import render_template
from werkzeug.wrappers import Response as WerkzeugResponse

from instruments.translations import localised
from survey.db import get_session
from survey.i18n import current_language
from survey.respondent import bp
from survey.respondent.charts import score_chart
from survey.respondent.links import follow, token_route
from survey.services import respondent


@bp.route("/<token>/thanks")
@token_route
def thanks(token: str) -> str | WerkzeugResponse:
    """Thank the person; reloading it (or resubmitting) changes nothing."""
    shown = respondent.thanks(get_session(), token)
    if isinstance(shown, respondent.Goto):
        return follow(token, shown)
    instrument = shown.instrument and localised(shown.instrument, current_language())
    chart = score_chart(instrument, shown.scores) if instrument is not None else None
    return render_template(
        "respondent/thanks.html", token=token, wave_label=shown.wave_label, chart=chart,
        show_own_scores=shown.show_own_scores,
    )
