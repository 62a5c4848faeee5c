"""The measurement invariance page: peer workers against colleagues, and across waves."""

from __future__ import annotations

from flask import render_template, request

from analysis import AnalysisError
from survey.admin.common import study_or_404
from survey.auth.access import require_role
from survey.db import get_session
from survey.models import StaffRole
from survey.research import bp
from survey.services import invariance_report
from survey.services.invariance_report import InvarianceChoice


@bp.route("/<code>/invariance")
@require_role(StaffRole.ADMIN, StaffRole.RESEARCHER)
def invariance(code: str) -> str:
    """Choose a scale and a comparison; see the fit of each step and the differences."""
    study = study_or_404(code)
    scales = invariance_report.scales(study)
    waves = [w.index for w in study.waves]
    choice = InvarianceChoice(
        scale=request.args.get("scale", scales[0] if scales else ""),
        across=request.args.get("across", "role"),
        wave=request.args.get("wave", type=int, default=waves[0] if waves else 1),
        role_group=request.args.get("role_group", "peer_worker"),
        missing=request.args.get("missing", "ml"),
    )
    report, error = None, None
    if "scale" in request.args:
        if choice.scale not in scales or choice.wave not in waves:
            error = "Choose a scale and a wave from the lists."
        else:
            try:
                report = invariance_report.build(get_session(), study, choice)
            except AnalysisError as exc:
                error = str(exc)
    return render_template("research/invariance.html", study=study, scales=scales,
                           waves=study.waves, choice=choice, report=report, error=error)
