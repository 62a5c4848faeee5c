"""The agreement endpoint: the reliability page's numbers as JSON, researchers only."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey import models as m
from survey.services.agreement import agreement_json, study_agreement
from tests.api.conftest import json_of


def test_agreement_json_is_the_pages_numbers(app: Flask, db: Session, client: FlaskClient,
                                             sign_in: Callable[..., m.User], demo: m.Study) -> None:
    sign_in(role=m.StaffRole.RESEARCHER)
    status, body, mimetype = json_of(client, "/api/v1/studies/demo/agreement")
    assert (status, mimetype) == (200, "application/json")
    minimum = app.config["MIN_GROUP_SIZE"]
    assert body["min_group_size"] == minimum
    assert body["scales"] == agreement_json(study_agreement(db, demo, minimum))
    wave = next(w for s in body["scales"] for w in s["waves"] if not w["error"])
    assert all(t["size"] >= minimum for t in wave["teams"])
    assert 0 <= wave["rows_used"] <= wave["rows_read"]


def test_agreement_is_for_researchers(client: FlaskClient, sign_in: Callable[..., m.User],
                                      demo: m.Study) -> None:
    sign_in(role=m.StaffRole.TRUST_MONITOR)
    status, body, _ = json_of(client, "/api/v1/studies/demo/agreement")
    assert status == 403 and body["detail"]


def test_unknown_study_is_404(client: FlaskClient, sign_in: Callable[..., m.User]) -> None:
    sign_in(role=m.StaffRole.RESEARCHER)
    status, body, _ = json_of(client, "/api/v1/studies/nosuch/agreement")
    assert status == 404 and "nosuch" in body["detail"]
