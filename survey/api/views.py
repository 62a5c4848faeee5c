"""API endpoints: thin wrappers over the services, answering JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, abort, current_app, json, jsonify, request
from sqlalchemy import select

from analysis import AnalysisError
from survey.api import bp
from survey.api.access import ALL_STAFF, RESEARCH, api_role, require_trust, signed_in_user
from survey.api.openapi import FHIR_JSON, LONG_FORMATS, document
from survey.api.queries import BOOLEANS, describe, model_choice, one_of
from survey.api.serialise import dashboard_json, long_json, model_json, study_json
from survey.db import get_session, writes_on_get
from survey.models import Organisation, Study, Team
from survey.services import agreement as agreement_service
from survey.services import dashboard, script_data
from survey.services import studies as study_service
from survey.services.errors import InputError
from survey.services.exports import LONG_LABELS, Table, csv_text
from survey.services.models_run import fit_study_model
from survey.web import commit_after

F = TypeVar("F", bound=Callable[..., Any])


def _get(rule: str) -> Callable[[F], F]:
    """A GET-only route; Flask's automatic OPTIONS answer is off, as it would not be JSON."""
    return bp.get(rule, provide_automatic_options=False)


def _study(code: str) -> Study:
    """The study with this code, or a 404 problem."""
    study = study_service.by_code(get_session(), code)
    if study is None:
        abort(404, description=f"There is no study with the code '{code}'.")
    return study


@_get("/openapi.json")
@api_role(*ALL_STAFF)
def openapi() -> Response:
    """The OpenAPI document describing this API."""
    return jsonify(document(current_app.config["SESSION_COOKIE_NAME"]))


@_get("/studies")
@api_role(*ALL_STAFF)
def studies() -> Response:
    """Every study with its waves."""
    rows = study_service.in_order_created(get_session())
    return jsonify({"studies": [study_json(s) for s in rows]})


@_get("/trusts/<code>/dashboard")
@api_role(*ALL_STAFF)
def trust_dashboard(code: str) -> Response:
    """One trust's dashboard figures for one study, small groups withheld."""
    db = get_session()
    organisation = db.scalar(select(Organisation).where(Organisation.code == code))
    if organisation is None:
        abort(404, description=f"There is no trust with the code '{code}'.")
    require_trust(organisation.id, code)
    study_code = request.args.get("study")
    if not study_code:
        abort(400, description="Query parameter 'study': required; the code of a study.")
    study = _study(study_code)
    team_id = None
    if "team" in request.args:
        team = db.scalar(select(Team).where(Team.code == request.args["team"],
                                            Team.organisation_id == organisation.id))
        if team is None:
            abort(404, description=f"The trust '{code}' has no team '{request.args['team']}'.")
        team_id = team.id
    board = dashboard.build(db, study, organisation.id, current_app.config["MIN_GROUP_SIZE"],
                            team_id=team_id)
    return jsonify(dashboard_json(organisation, board))


@_get("/studies/<code>/model")
@api_role(*RESEARCH)
def study_model(code: str) -> Response:
    """A growth model fitted to one scale of a study: the JSON of `python -m analysis fit --json`."""
    db = get_session()
    study = _study(code)
    try:
        choice = model_choice(request.args)
    except InputError as exc:
        abort(400, description=describe(exc))
    try:
        results = fit_study_model(db, study, choice)
    except AnalysisError as exc:
        abort(422, description=str(exc))
    # Strict JSON, the same as the research download: an estimate that is not a number is null.
    return Response(model_json(results), mimetype="application/json")


@_get("/studies/<code>/agreement")
@api_role(*RESEARCH)
def study_agreement(code: str) -> Response:
    """ICC(1), ICC(2) and rwg(j) of each scale per wave across teams, as the reliability page."""
    study = _study(code)
    tables = agreement_service.study_agreement(get_session(), study,
                                               current_app.config["MIN_GROUP_SIZE"])
    return jsonify({"study": study.code, "min_group_size": current_app.config["MIN_GROUP_SIZE"],
                    "scales": agreement_service.agreement_json(tables)})


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    """A query parameter that takes one of a few values, or a 400 problem naming it."""
    try:
        return one_of(request.args, name, allowed, default)
    except InputError as exc:
        abort(400, description=describe(exc))


@_get("/studies/<code>/long")
@writes_on_get
@api_role(*RESEARCH)
def study_long(code: str) -> Response:
    """The long table of the research export (one row per participant, wave and scale), CSV or JSON."""
    db = get_session()
    study = _study(code)
    fmt = _choice("format", LONG_FORMATS, "json")
    user = signed_in_user()
    frame = commit_after(lambda: script_data.long_data(db, study, user))
    if fmt == "csv":
        return Response(csv_text(Table(frame, dict(LONG_LABELS))), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{study.code}-long.csv"'})
    return jsonify(long_json(study, frame))


@_get("/studies/<code>/responses/<response>/fhir")
@writes_on_get
@api_role(*RESEARCH)
def study_response_fhir(code: str, response: str) -> Response:
    """One submitted response as a FHIR R4 QuestionnaireResponse (pseudonymous subject)."""
    db = get_session()
    study = _study(code)
    free_text = BOOLEANS[_choice("free_text", tuple(BOOLEANS), "false")]
    user = signed_in_user()
    resource = commit_after(lambda: script_data.fhir_response(db, study, response, user, free_text))
    if resource is None:
        abort(404, description=f"The study '{code}' has no submitted response '{response}': "
                               "a response is named <participant code>-wave-<wave number>.")
    return Response(json.dumps(resource), mimetype=FHIR_JSON)
