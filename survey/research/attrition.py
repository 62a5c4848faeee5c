"""The attrition page: who stays in the study, who leaves, and what their first answers were."""

from __future__ import annotations

from flask import render_template

from analysis import AnalysisError
from survey.admin.common import study_or_404
from survey.auth.access import require_role
from survey.db import get_session
from survey.models import StaffRole
from survey.research import bp
from survey.services import attrition


@bp.route("/<code>/attrition")
@require_role(StaffRole.ADMIN, StaffRole.RESEARCHER)
def attrition_page(code: str) -> str:
    """Retention by wave, role and team; missing-wave patterns; stayers against leavers."""
    study = study_or_404(code)
    report, error = None, None
    try:
        report = attrition.build(get_session(), study)
    except AnalysisError as exc:
        error = str(exc)
    return render_template("research/attrition.html", study=study, report=report, error=error)
