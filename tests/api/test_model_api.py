"""The model endpoint: the same JSON as the research download, clear 400s and 422s."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from analysis import AnalysisError
from survey import models as m
from survey.db import utcnow
from survey.services.models_run import ModelChoice, fit_study_model
from tests import factories as f
from tests.api.conftest import json_of

FITS = [
    # API query, the same choice on the research page, the choice itself
    ("scale=equality", "scale=equality&by=role_group&method=REML",
     ModelChoice("equality", "role_group", False, "REML")),
    ("scale=empowerment&by=role&team_level=true&method=ML",
     "scale=empowerment&by=role&team_level=y&method=ML", ModelChoice("empowerment", "role", True, "ML")),
    ("scale=support&by=&team_level=false", "scale=support&by=&method=REML",
     ModelChoice("support", None, False, "REML")),
]


def test_model_json_is_the_fit(db: Session, client: FlaskClient, sign_in: Callable[..., m.User],
                               demo: m.Study) -> None:
    sign_in(role=m.StaffRole.RESEARCHER)
    for query, research_query, choice in FITS:
        status, body, mimetype = json_of(client, f"/api/v1/studies/demo/model?{query}")
        assert (status, mimetype) == (200, "application/json"), query
        assert body == json.loads(json.dumps(fit_study_model(db, demo, choice).to_dict())), query
        assert body["n_subjects"] > 0 and body["fixed_effects"]
        research = client.get(f"/research/demo/model.json?{research_query}")
        assert research.status_code == 200 and research.get_json() == body, research_query


INVALID = [
    ("", "scale", "required"),
    ("scale=equality&by=team", "by", "'role_group'"),
    ("scale=equality&team_level=yes", "team_level", "'true'"),
    ("scale=equality&method=OLS", "method", "'REML'"),
]


def test_invalid_query_says_which_parameter(client: FlaskClient, sign_in: Callable[..., m.User],
                                            demo: m.Study) -> None:
    sign_in(role=m.StaffRole.ADMIN)
    for query, parameter, hint in INVALID:
        status, body, mimetype = json_of(client, f"/api/v1/studies/demo/model?{query}")
        assert (status, mimetype) == (400, "application/problem+json"), query
        assert body["detail"].startswith(f"Query parameter '{parameter}'") and hint in body["detail"], body


def test_unfittable_model_is_422_with_the_reason(db: Session, client: FlaskClient,
                                                 sign_in: Callable[..., m.User]) -> None:
    """One participant answering once: no slope can be estimated."""
    study = f.StudyFactory(code="tiny")
    wave = f.WaveFactory(study=study, index=1)
    invitation = f.InvitationFactory(participant=f.ParticipantFactory(study=study), wave=wave,
                                     status=m.InvitationStatus.COMPLETED, completed_at=utcnow())
    response = m.Response(invitation=invitation, instrument_id="x", instrument_version=1,
                          instrument_hash="0" * 64, submitted_at=invitation.completed_at)
    response.scores = [m.ScaleScore(scale="equality", score=3.0, items_answered=5)]
    db.add(response)
    db.commit()
    sign_in(role=m.StaffRole.RESEARCHER)
    status, body, mimetype = json_of(client, "/api/v1/studies/tiny/model?scale=equality")
    assert (status, mimetype) == (422, "application/problem+json")
    with pytest.raises(AnalysisError) as raised:
        fit_study_model(db, study, ModelChoice("equality", "role_group", False, "REML"))
    assert body == {"status": 422, "title": "Unprocessable Entity", "detail": str(raised.value)}
    status, body, _ = json_of(client, "/api/v1/studies/tiny/model?scale=nonsense")
    assert (status, body["detail"]) == (422, "there are no scores for the scale 'nonsense' yet")
