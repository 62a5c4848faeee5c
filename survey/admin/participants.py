"""Participants of a study: the list, CSV import with its template, add, edit and move."""

from __future__ import annotations

from collections import defaultdict

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectChoice

from survey.admin import bp
from survey.admin.common import STAFF, study_or_404
from survey.admin.forms import ImportForm, ParticipantForm, form_problems, save_or_show
from survey.admin.paging import paginate
from survey.auth.access import current_user, require_role
from survey.db import get_session, writes_on_get
from survey.messaging.email import MailSettings
from survey.models import Invitation, InvitationStatus, Participant, Study, Team, Wave
from survey.services import enrolment, opt_outs, receipts, run_overview, timeline
from survey.services.audit import record_event
from survey.services.errors import InputError, Problem
from survey.web import commit_after

PAGE_SIZE = 100


@bp.route("/studies/<code>/participants")
@require_role(*STAFF)
def participants(code: str) -> str:
    """Participants by pseudonym with team, role, status and each wave's invitation status."""
    db = get_session()
    study = study_or_404(code)
    waves = {str(wave.index): wave for wave in study.waves}
    wave = waves.get(request.args.get("wave", ""))
    if wave is None and study.waves:
        wave = study.waves[0]
    try:
        choice = run_overview.WaveFilter(request.args["status"]) if request.args.get(
            "status") else None
    except ValueError:
        abort(400)
    people, page = paginate(
        db,
        run_overview.people(study, wave, choice)
        .options(joinedload(Participant.team))
        .order_by(Participant.code),
        PAGE_SIZE,
    )
    statuses: dict[int, dict[int, InvitationStatus]] = defaultdict(dict)
    for participant_id, wave_index, status in db.execute(
        select(Invitation.participant_id, Wave.index, Invitation.status)
        .join(Wave, Wave.id == Invitation.wave_id)
        .where(Invitation.participant_id.in_([p.id for p in people]))
    ):
        statuses[participant_id][wave_index] = status
    return render_template(
        "admin/participants.html", study=study, people=people, statuses=statuses, page=page,
        unreachable=opt_outs.unreachable([p.id for p in people], db), wave=wave, choice=choice,
        counts=run_overview.counts(db, study, wave) if wave is not None else {},
        filters=list(run_overview.WaveFilter),
    )


@bp.route("/studies/<code>/participants/template.csv")
@require_role(*STAFF)
def template(code: str) -> Response:
    """The CSV template: the header and two example rows."""
    study_or_404(code)
    return Response(
        enrolment.template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=participants-template.csv"},
    )


@bp.route("/studies/<code>/participants/import", methods=["GET", "POST"])
@require_role(*STAFF)
def import_participants(code: str) -> str | WerkzeugResponse:
    """Upload a CSV; on any problem nothing is written and every problem is listed."""
    db = get_session()
    study = study_or_404(code)
    form = ImportForm()
    problems: list[Problem] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = commit_after(
                lambda: enrolment.import_csv(db, study, upload.read(), current_user()))
        except InputError as exc:
            problems = exc.problems
        else:
            flash(f"Import done: {result.summary()}.", "info")
            return redirect(url_for("admin.participants", code=study.code))
    status = 400 if request.method == "POST" else 200
    html = render_template(
        "admin/import.html", study=study, form=form, problems=problems,
        columns=enrolment.COLUMNS, roles=enrolment.ROLES,
        optional_columns=enrolment.OPTIONAL_COLUMNS,
    )
    return Response(html, status=status) if status != 200 else html


def _team_choices() -> list[SelectChoice]:
    teams = get_session().scalars(
        select(Team).options(joinedload(Team.organisation)).order_by(Team.name)
    )
    return [SelectChoice(t.code, f"{t.name} ({t.organisation.name})") for t in teams]


def _participant_form(study: Study, participant: Participant | None) -> str | WerkzeugResponse:
    """Shared by add and edit: show the form, or save it through the enrolment service."""
    db = get_session()
    form = ParticipantForm()
    form.team_code.choices = _team_choices()
    if request.method == "GET" and participant is not None:
        assert participant.contact is not None
        form.external_id.data = participant.contact.external_id
        form.email.data = participant.contact.email
        form.name.data = participant.contact.name
        form.role.data = participant.role.value
        form.team_code.data = participant.team.code
        form.anchor_date.data = participant.anchor_date.isoformat()
        form.mobile.data = participant.contact.mobile or ""
        form.channel.data = participant.contact.channel.value
        form.language.data = participant.language
        # Contact details leave their table only here: who looked is recorded (not what).
        commit_after(lambda: record_event(db, current_user(), "participant.contact_view",
                                          "participant", participant.code))
    problems: list[Problem] = []
    if form.validate_on_submit():
        values = {name: getattr(form, name).data
                  for name in enrolment.COLUMNS + enrolment.OPTIONAL_COLUMNS}
        saved = save_or_show(
            form, lambda: enrolment.save_participant(db, study, values, current_user(), participant),
            lambda person: f"Saved participant {person.code}.", "admin.participants", code=study.code)
        if saved is not None:
            return saved
        problems = form_problems(form)
    moments = timeline.participant_timeline(db, participant) if participant is not None else []
    html = render_template("admin/participant_form.html", study=study, form=form,
                           participant=participant, problems=problems, moments=moments)
    return Response(html, status=400) if problems or form.errors else html


@bp.route("/studies/<code>/participants/new", methods=["GET", "POST"])
@require_role(*STAFF)
def new_participant(code: str) -> str | WerkzeugResponse:
    """Add one participant."""
    return _participant_form(study_or_404(code), None)


@bp.route("/studies/<code>/participants/<pcode>/resend", methods=["POST"])
@require_role(*STAFF)
def resend(code: str, pcode: str) -> WerkzeugResponse:
    """Send again, once, what failed for good on an address that has since been fixed."""
    study = study_or_404(code)
    db = get_session()
    participant = db.scalar(
        select(Participant).where(Participant.study_id == study.id, Participant.code == pcode))
    if participant is None:
        abort(404)
    queued = commit_after(lambda: receipts.resend_after_fix(
        db, MailSettings.from_config(current_app.config), participant, current_user()))
    flash(f"Queued {queued} message{'s' if queued != 1 else ''} again." if queued else
          "Nothing to send again: no failed message has a working address now.", "info")
    return redirect(url_for("admin.edit_participant", code=study.code, pcode=pcode), 303)


@bp.route("/studies/<code>/participants/<pcode>/edit", methods=["GET", "POST"])
@writes_on_get  # showing contact details is audited
@require_role(*STAFF)
def edit_participant(code: str, pcode: str) -> str | WerkzeugResponse:
    """Edit one participant's contact details, role, anchor date, or move them to another team."""
    study = study_or_404(code)
    participant = get_session().scalar(
        select(Participant).where(Participant.study_id == study.id, Participant.code == pcode)
    )
    if participant is None or participant.contact is None:
        abort(404)
    return _participant_form(study, participant)
