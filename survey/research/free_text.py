"""The free-text page: what respondents wrote, for researchers only (each view audited)."""

from __future__ import annotations

from flask import render_template

from survey.admin.common import study_or_404
from survey.auth.access import current_user, require_role
from survey.db import get_session, writes_on_get
from survey.models import StaffRole
from survey.research import bp
from survey.services import free_text
from survey.web import commit_after


@bp.route("/<code>/free-text")
@writes_on_get  # the reading is audited
@require_role(StaffRole.ADMIN, StaffRole.RESEARCHER)
def free_text_page(code: str) -> str:
    """Every free-text answer of the study, by question."""
    study = study_or_404(code)
    questions = commit_after(lambda: free_text.read(get_session(), study, current_user()))
    return render_template("research/free_text.html", study=study, questions=questions)
