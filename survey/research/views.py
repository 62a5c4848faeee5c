"""Research pages for researchers and admins."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

from flask import Response, abort, current_app, render_template, request, url_for
from wtforms import SelectChoice

from analysis import AnalysisError
from survey.admin.common import study_or_404
from survey.auth.access import current_user, require_role
from survey.db import get_session, writes_on_get
from survey.models import StaffRole, Study
from survey.research import bp
from survey.research.forms import ModelForm
from survey.services import agreement as agreement_service
from survey.services import change_report, datasets, exports, studies
from survey.services import reliability as reliability_service
from survey.services.models_run import ModelChoice, fit_study_model
from survey.web import commit_after

if TYPE_CHECKING:
    from analysis import GrowthResults  # annotations only: importing it loads pandas

RESEARCH = (StaffRole.ADMIN, StaffRole.RESEARCHER)


@bp.route("/")
@require_role(*RESEARCH)
def index() -> str:
    """The studies, with their analyses and export."""
    return render_template("research/index.html", studies=studies.by_name(get_session()))


def _choice(study: Study) -> tuple[ModelForm, ModelChoice | None]:
    """Read the model chooser from the query string."""
    form = ModelForm(request.args)
    scales = sorted(set(datasets.long_scores(get_session(), study)["scale"]))
    form.scale.choices = [SelectChoice(s, s.replace("_", " ").capitalize()) for s in scales]
    if not request.args or not form.validate():
        if request.args:
            return form, None
        form.scale.data = "equality" if "equality" in scales else (scales[0] if scales else None)
        form.by.data, form.method.data = "role_group", "REML"
        return form, None
    return form, ModelChoice(form.scale.data or "", form.by.data or None,
                             bool(form.team_level.data), form.method.data or "REML")


@bp.route("/<code>/model")
@require_role(*RESEARCH)
def model(code: str) -> str:
    """Choose a scale and model; see the estimates, the plot and the downloads."""
    study = study_or_404(code)
    form, choice = _choice(study)
    results, error = None, None
    if choice is not None:
        try:
            results = fit_study_model(get_session(), study, choice)
        except AnalysisError as exc:
            error = str(exc)
    return render_template("research/model.html", study=study, form=form, choice=choice,
                           results=results, error=error)


def _fitted(code: str) -> tuple[Study, ModelChoice, GrowthResults | None, str | None]:
    """The study, the choice in the query string (400 if invalid) and its fit or the error."""
    study = study_or_404(code)
    _form, choice = _choice(study)
    if choice is None:
        abort(400)
    try:
        return study, choice, fit_study_model(get_session(), study, choice), None
    except AnalysisError as exc:
        return study, choice, None, str(exc)


@bp.route("/<code>/model.json")
@require_role(*RESEARCH)
def model_json(code: str) -> Response:
    """The fitted model as the JSON object of `python -m analysis fit --json`."""
    study, choice, results, error = _fitted(code)
    if results is None:
        return Response(_json({"error": error}), status=422, mimetype="application/json")
    response = Response(results.to_json(indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{study.code}-{choice.scale}-model.json"')
    return response


@bp.route("/<code>/model.<any(png, svg):fmt>")
@require_role(*RESEARCH)
def model_plot(code: str, fmt: str) -> Response:
    """Predicted trajectories with confidence bands beside the observed means."""
    _study, _choice_made, results, _error = _fitted(code)
    if results is None:
        abort(422)
    figure = results.plot_trajectories(observed_by="wave")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=120)
    mimetype = "image/svg+xml" if fmt == "svg" else "image/png"
    return Response(buffer.getvalue(), mimetype=mimetype)


@bp.route("/<code>/reliability")
@require_role(*RESEARCH)
def reliability(code: str) -> str:
    """Cronbach's alpha (Feldt 95% CI) and McDonald's omega per scale, wave and role group."""
    study = study_or_404(code)
    db = get_session()
    tables = reliability_service.study_reliability(db, study)
    agreement = agreement_service.study_agreement(db, study, current_app.config["MIN_GROUP_SIZE"])
    return render_template("research/reliability.html", study=study, tables=tables,
                           agreement=agreement, min_group=current_app.config["MIN_GROUP_SIZE"])


@bp.route("/<code>/change")
@require_role(*RESEARCH)
def change(code: str) -> str:
    """Reliable change per participant and estimated change per team between two waves."""
    study = study_or_404(code)
    scales = sorted(set(datasets.long_scores(get_session(), study)["scale"]))
    waves = [w.index for w in study.waves]
    scale = request.args.get("scale", "equality")
    wave_from = request.args.get("from", type=int, default=1)
    wave_to = request.args.get("to", type=int, default=max(waves[:3], default=1))
    report, error = None, None
    if scale not in scales or wave_from not in waves or wave_to not in waves:
        error = "Choose a scale and two waves from the lists."
    else:
        try:
            report = change_report.build(get_session(), study, scale, wave_from, wave_to)
        except AnalysisError as exc:
            error = str(exc)
    return render_template("research/change.html", study=study, scales=scales, waves=study.waves,
                           scale=scale, wave_from=wave_from, wave_to=wave_to, report=report,
                           error=error)


@bp.route("/<code>/export.zip")
@writes_on_get  # the download is audited
@require_role(*RESEARCH)
def export(code: str) -> Response:
    """The pseudonymous export with its codebook (the download is audited).

    `?without_free_text=1` leaves every free-text answer out of every file.
    """
    study = study_or_404(code)
    free_text = request.args.get("without_free_text") != "1"
    payload = commit_after(
        lambda: exports.build_export(get_session(), study, current_user(), free_text=free_text))
    response = Response(payload, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="peerpulse-{study.code}.zip"'
    return response


def _json(data: object) -> str:
    """Strict JSON (no NaN), as the results' own JSON."""
    return json.dumps(data, indent=2, allow_nan=False)


def model_url(study: Study, choice: ModelChoice, endpoint: str, **extra: str) -> str:
    """A link to one of the model endpoints with the same choice."""
    values: dict[str, Any] = {"code": study.code, **choice.as_query(), **extra}
    return url_for(endpoint, **values)


bp.add_app_template_global(model_url, "model_url")
