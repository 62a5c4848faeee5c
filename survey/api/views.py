"""API endpoints: thin wrappers over the services, answering JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, abort, current_app, jsonify, request
from sqlalchemy import select

from analysis import AnalysisError
from survey.api import bp
from survey.api.access import ALL_STAFF, RESEARCH, api_role, require_trust
from survey.api.openapi import document
from survey.api.queries import BadQuery, model_choice
from survey.api.serialise import dashboard_json, study_json
from survey.db import get_session
from survey.models import Organisation, Study, Team
from survey.services import dashboard
from survey.services.models_run import fit_study_model

F = TypeVar("F", bound=Callable[..., Any])


def _get(rule: str) -> Callable[[F], F]:
    """A GET-only route; Flask's automatic OPTIONS answer is off, as it would not be JSON."""
    return bp.get(rule, provide_automatic_options=False)


def _study(code: str) -> Study:
    """The study with this code, or a 404 problem."""
    study = get_session().scalar(select(Study).where(Study.code == code))
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
    rows = get_session().scalars(select(Study).order_by(Study.created_at, Study.id)).all()
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
    except BadQuery as exc:
        abort(400, description=str(exc))
    try:
        results = fit_study_model(db, study, choice)
    except AnalysisError as exc:
        abort(422, description=str(exc))
    try:  # strict JSON, as the research page's download: NaN is not JSON
        body = json.dumps(results.to_dict(), allow_nan=False, default=float)
    except ValueError:
        abort(422, description="The fit gave estimates that are not numbers (NaN); try a simpler model.")
    return Response(body, mimetype="application/json")
