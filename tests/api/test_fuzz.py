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

from survey import models as m


@pytest.fixture
def researcher(client: FlaskClient, sign_in: Callable[..., m.User], demo: m.Study) -> FlaskClient:
    """A test client signed in as a researcher, with the demo study loaded."""
    sign_in(role=m.StaffRole.RESEARCHER)
    return client


@pytest.fixture
def api_schema(app: Flask, researcher: FlaskClient) -> schemathesis.BaseSchema:
    """The API's own OpenAPI document as served, bound to the app for in-process calls."""
    # from_wsgi uses a fresh Werkzeug client, which cannot carry the session cookie.
    served = researcher.get("/api/v1/openapi.json")
    assert served.status_code == 200
    document = served.get_json()
    scheme = document["components"]["securitySchemes"]["staffSession"]
    cookie = researcher.get_cookie(scheme["name"])
    assert cookie is not None
    # The researcher's cookie as the document's security scheme: schemathesis sends it, and also
    # probes each successful operation without it and with a made-up one (expecting 401/403).
    # A valid query may still name a scale without scores: 422, as documented.
    config = schemathesis.Config.from_dict({
        "auth": {"openapi": {"staffSession": {"api_key": cookie.value}}},
        "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", 401, 403, 404, 422]}},
    })
    schema = schemathesis.openapi.from_dict(document, config=config)
    schema.app = app
    return schema


# Codes that exist in the demo, so that generated queries also reach the figures and the fits.
KNOWN = {"/trusts/{code}/dashboard": ({"code": "NRT"}, {"study": "demo"}),
         "/studies/{code}/model": ({"code": "demo"}, {})}


def _cases(operation: APIOperation) -> st.SearchStrategy[schemathesis.Case]:
    """The document's examples, valid and invalid generated inputs, and generated ones on known codes."""
    strategies = [*operation.schema.get_strategies_from_examples(operation),
                  operation.as_strategy(GenerationMode.POSITIVE),
                  operation.as_strategy(GenerationMode.NEGATIVE)]
    if operation.path in KNOWN:
        path, query = KNOWN[operation.path]
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path,
                                                query=query or None))
    return st.one_of(strategies)


@pytest.mark.slow
def test_every_operation_conforms(api_schema: schemathesis.BaseSchema, researcher: FlaskClient) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} == set(api_schema.raw_schema["paths"])
    seen: dict[str, set[int]] = {}
    for operation in operations:

        @given(case=_cases(operation))
        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
        def check(case: schemathesis.Case) -> None:
            response = case.call()
            seen.setdefault(case.operation.path, set()).add(response.status_code)
            assert response.status_code < 500, response.text
            content_type = response.headers["content-type"][0]
            assert content_type in ("application/json", "application/problem+json"), content_type
            case.validate_response(response)

        check()
    # Every operation was reached with success at least once, not only with errors.
    assert all(200 in codes for codes in seen.values()), seen
