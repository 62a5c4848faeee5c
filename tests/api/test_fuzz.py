"""Schemathesis runs every operation with generated inputs, signed in as a researcher."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.schemas import APIOperation
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m


@pytest.fixture
def researcher(client: FlaskClient, sign_in: Callable[..., m.User], demo: m.Study) -> FlaskClient:
    """A test client signed in as a researcher, with the demo study loaded."""
    sign_in(role=m.StaffRole.RESEARCHER)
    return client


@pytest.fixture(params=["staffSession", "apiToken"])
def api_schema(request: pytest.FixtureRequest, app: Flask, researcher: FlaskClient,
               make_token: Callable[..., tuple[m.User, str]]) -> schemathesis.BaseSchema:
    """The API's own OpenAPI document as served, bound to the app for in-process calls.

    Run once with the researcher's session cookie, once with a researcher's personal API token.
    """
    # from_wsgi uses a fresh Werkzeug client, which cannot carry the session cookie.
    served = researcher.get("/api/v1/openapi.json")
    assert served.status_code == 200
    document = served.get_json()
    if request.param == "staffSession":
        scheme = document["components"]["securitySchemes"]["staffSession"]
        cookie = researcher.get_cookie(scheme["name"])
        assert cookie is not None
        auth = {"staffSession": {"api_key": cookie.value}}
    else:
        researcher.delete_cookie(current_cookie_name(app))  # the token alone
        auth = {"apiToken": {"bearer": make_token(role=m.StaffRole.RESEARCHER)[1]}}
    # The credential as the document's security scheme: schemathesis sends it, and also
    # probes each successful operation without it and with a made-up one (expecting 401/403).
    # A valid query may still name a scale without scores: 422, as documented. Every URL with a
    # NUL character is refused (400) before any endpoint (test_a_nul_character_is_a_400_problem).
    config = schemathesis.Config.from_dict({
        "auth": {"openapi": auth},
        "generation": {"allow-x00": False},
        "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", 401, 403, 404, 422]}},
    })
    schema = schemathesis.openapi.from_dict(document, config=config)
    schema.app = app
    return schema


def current_cookie_name(app: Flask) -> str:
    """The name of the session cookie."""
    return str(app.config["SESSION_COOKIE_NAME"])


# Codes that exist in the demo, so that generated queries also reach the figures and the fits.
KNOWN = {"/trusts/{code}/dashboard": ({"code": "NRT"}, {"study": "demo"}),
         "/studies/{code}/model": ({"code": "demo"}, {}),
         "/studies/{code}/long": ({"code": "demo"}, {})}
# What each operation may answer with (besides problems): JSON, or the formats it documents.
CONTENT_TYPES = {"application/json", "application/problem+json", "text/csv", "application/fhir+json"}


@pytest.fixture
def known(db: Session, demo: m.Study) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """KNOWN, and one submitted response of the demo (its participants' codes are random)."""
    code, wave = db.execute(
        select(m.Participant.code, m.Wave.index)
        .join(m.Invitation, m.Invitation.participant_id == m.Participant.id)
        .join(m.Wave, m.Invitation.wave_id == m.Wave.id)
        .join(m.Response, m.Response.invitation_id == m.Invitation.id)
        .where(m.Response.submitted_at.is_not(None)).order_by(m.Response.id).limit(1)).one()
    return {**KNOWN, "/studies/{code}/responses/{response}/fhir": (
        {"code": "demo", "response": f"{code}-wave-{wave}"}, {})}


def _cases(operation: APIOperation, known: dict[str, tuple[dict[str, str], dict[str, str]]]
           ) -> st.SearchStrategy[schemathesis.Case]:
    """The document's examples, valid and invalid generated inputs, and generated ones on known codes."""
    strategies = [*operation.schema.get_strategies_from_examples(operation),
                  operation.as_strategy(GenerationMode.POSITIVE),
                  operation.as_strategy(GenerationMode.NEGATIVE)]
    if operation.path in known:
        path, query = known[operation.path]
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path,
                                                query=query or None))
    return st.one_of(strategies)


@pytest.mark.slow
def test_every_operation_conforms(api_schema: schemathesis.BaseSchema, researcher: FlaskClient,
                                  known: dict[str, tuple[dict[str, str], dict[str, str]]]) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} == set(api_schema.raw_schema["paths"])
    seen: dict[str, set[int]] = {}
    for operation in operations:

        @given(case=_cases(operation, known))
        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
        def check(case: schemathesis.Case) -> None:
            response = case.call()
            seen.setdefault(case.operation.path, set()).add(response.status_code)
            assert response.status_code < 500, response.text
            content_type = response.headers["content-type"][0].split(";")[0]
            assert content_type in CONTENT_TYPES, content_type
            case.validate_response(response)

        check()
    # Every operation was reached with success at least once, not only with errors.
    assert all(200 in codes for codes in seen.values()), seen


def test_a_nul_character_is_a_400_problem(researcher: FlaskClient) -> None:
    for url in ("/api/v1/studies/demo/model?scale=a%00b", "/api/v1/trusts/NRT/dashboard?study=d%00",
                "/api/v1/studies/de%00mo/long"):
        response = researcher.get(url)
        assert response.status_code == 400 and response.mimetype == "application/problem+json", url
        assert "NUL" in response.get_json(force=True)["detail"]
