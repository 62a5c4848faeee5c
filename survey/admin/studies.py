"""Studies: the list with waves and counts, pause and resume."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.admin import bp
from survey.admin.common import STAFF, study_or_404
from survey.admin.forms import ActionForm
from survey.auth.access import current_user, require_role
from survey.db import get_session
from survey.models import Participant, ParticipantStatus, StaffRole, Study, StudyStatus
from survey.scheduler import JOB_INTERVALS
from survey.services import job_runs
from survey.services.audit import record_event


@bp.route("/")
@require_role(*STAFF)
def index() -> str:
    """Every study: status, waves, participants, and a pause/resume button."""
    db = get_session()
    studies = list(db.scalars(select(Study).order_by(Study.name)))
    counts = {
        (study_id, status): n
        for study_id, status, n in db.execute(
            select(Participant.study_id, Participant.status, func.count())
            .group_by(Participant.study_id, Participant.status)
        )
    }
    user = current_user()
    show_jobs = user is not None and user.role == StaffRole.ADMIN
    return render_template(
        "admin/index.html", studies=studies, counts=counts, form=ActionForm(),
        ACTIVE=ParticipantStatus.ACTIVE, WITHDRAWN=ParticipantStatus.WITHDRAWN,
        jobs=job_runs.status(db, list(JOB_INTERVALS)) if show_jobs else [],
        heartbeat=job_runs.latest_beat(db) if show_jobs else None,
    )


def _set_status(code: str, status: StudyStatus) -> WerkzeugResponse:
    form = ActionForm()
    if not form.validate_on_submit():
        flash("The form had expired; please try again.", "error")
        return redirect(url_for("admin.index"))
    db = get_session()
    study = study_or_404(code)
    if study.status != status:
        study.status = status
        record_event(db, current_user(), f"study.{'pause' if status == StudyStatus.PAUSED else 'resume'}",
                     "study", study.code)
        db.commit()
    if status == StudyStatus.PAUSED:
        flash(f"{study.name} is paused: no invitations or reminders will be sent.", "info")
    else:
        flash(f"{study.name} is running again.", "info")
    return redirect(url_for("admin.index"))


@bp.route("/studies/<code>/pause", methods=["POST"])
@require_role(*STAFF)
def pause(code: str) -> WerkzeugResponse:
    """Pause a study: nothing is sent until it is resumed."""
    return _set_status(code, StudyStatus.PAUSED)


@bp.route("/studies/<code>/resume", methods=["POST"])
@require_role(*STAFF)
def resume(code: str) -> WerkzeugResponse:
    """Resume a paused study."""
    return _set_status(code, StudyStatus.ACTIVE)
