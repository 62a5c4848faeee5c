"""The OpenAPI document is valid and describes every route of the API."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from survey import models as m
from survey.api import bp
from survey.api.openapi import document
from tests.api.conftest import json_of


def test_document_is_valid_openapi() -> None:
    validate(document())  # raises OpenAPIValidationError with the path of the problem


def test_served_document_is_the_document(client: FlaskClient, sign_in: Callable[..., m.User]) -> None:
    sign_in(role=m.StaffRole.TRUST_MONITOR)
    status, served, mimetype = json_of(client, "/api/v1/openapi.json")
    assert (status, mimetype) == (200, "application/json")
    assert served == document()


def test_every_route_is_documented_with_its_errors(app: Flask) -> None:
    spec = document()
    base = spec["servers"][0]["url"]
    assert base == bp.url_prefix
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).removeprefix(base): rule
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith(f"{bp.name}.")}
    assert set(routes) == set(spec["paths"])
    for path, rule in routes.items():
        assert rule.methods is not None and rule.methods - {"HEAD", "OPTIONS"} == {"GET"}, path
        operation = spec["paths"][path]["get"]
        responses = operation["responses"]
        assert {"200", "401", "403"} <= set(responses), path
        for name in re.findall(r"{(\w+)}", path):
            assert any(p["name"] == name and p["in"] == "path" for p in operation["parameters"]), path
    assert {"400", "404"} <= set(spec["paths"]["/trusts/{code}/dashboard"]["get"]["responses"])
    assert {"400", "404", "422"} <= set(spec["paths"]["/studies/{code}/model"]["get"]["responses"])
    for path in ("/studies/{code}/long", "/studies/{code}/responses/{response}/fhir"):
        assert {"400", "404"} <= set(spec["paths"][path]["get"]["responses"]), path
    assert spec["components"]["securitySchemes"]["apiToken"] == {
        "type": "http", "scheme": "bearer",
        "description": "A personal API token from the staff account page."}
    assert {"apiToken": []} in spec["security"]
    problem = spec["components"]["schemas"]["Problem"]
    assert problem["required"] == ["status", "title", "detail"]
