"""A fit with a NaN estimate: valid JSON with null from the API and the research download alike."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

import survey.api.views
import survey.research.views
from survey import models as m
from survey.api.openapi import document
from tests.fits import nan_fitting, strict_json


def test_nan_estimates_are_null_in_the_api_and_the_research_download(
    db: Session, client: FlaskClient, sign_in: Callable[..., m.User], demo: m.Study,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for module in (survey.api.views, survey.research.views):
        monkeypatch.setattr(module, "fit_study_model", nan_fitting(module.fit_study_model))
    sign_in(role=m.StaffRole.RESEARCHER)
    api = client.get("/api/v1/studies/demo/model?scale=equality")
    research = client.get("/research/demo/model.json?scale=equality&by=role_group&method=REML")
    # The documented answer: 200 with the fit, numbers the fit could not give as null.
    assert (api.status_code, api.mimetype) == (200, "application/json")
    assert (research.status_code, research.mimetype) == (200, "application/json")
    body = strict_json(api.get_data(as_text=True))
    assert strict_json(research.get_data(as_text=True)) == body
    spoiled = body["fixed_effects"][1]
    assert [spoiled[key] for key in ("se", "ci_low", "ci_high", "p")] == [None] * 4
    assert isinstance(spoiled["estimate"], float)
    schema = document()["components"]["schemas"]["ModelResults"]
    fixed = schema["properties"]["fixed_effects"]["items"]["properties"]
    assert all("null" in fixed[key]["type"] for key in ("se", "ci_low", "ci_high", "p"))
