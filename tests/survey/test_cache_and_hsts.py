"""No response about people is cached (no-store on everything but the static files); HSTS over https."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey import models as m
from tests import factories as f
from tests.conftest import StaffLogin

MODEL = "/research/demo/model{}?scale=equality&by=role_group&method=REML"
DATA_URLS = ["/research/demo/export.zip", MODEL.format(".json"), MODEL.format(".svg"),
             MODEL.format(".png"), MODEL.format(""), "/api/v1/studies/demo/long?format=csv",
             "/api/v1/studies/demo/long", "/staff/account"]


@pytest.mark.slow
def test_every_data_response_is_no_store(db: Session, client: FlaskClient, auth: StaffLogin,
                                         demo: m.Study) -> None:
    user = f.UserFactory(role=m.StaffRole.RESEARCHER)
    db.commit()
    auth.login(user.email)
    for url in DATA_URLS:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url


def test_static_files_may_be_cached(client: FlaskClient) -> None:
    response = client.get("/static/peerpulse.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_hsts_only_when_base_url_is_https(make_app: Any) -> None:
    plain = make_app().test_client().get("/staff/login")
    assert "Strict-Transport-Security" not in plain.headers
    secure = make_app(BASE_URL="https://survey.example.org").test_client().get(
        "/staff/login", base_url="https://survey.example.org")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
