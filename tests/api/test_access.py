"""Who may call which endpoint: 401 when signed out, 403 for the wrong role or trust, as JSON."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from tests import factories as f
from tests.api.conftest import json_of
from tests.conftest import StaffLogin

OPENAPI = "/api/v1/openapi.json"
STUDIES = "/api/v1/studies"
OWN_TRUST = "/api/v1/trusts/NRT/dashboard?study=demo"
OTHER_TRUST = "/api/v1/trusts/SHP/dashboard?study=demo"
MODEL = "/api/v1/studies/demo/model?scale=equality"
URLS = (OPENAPI, STUDIES, OWN_TRUST, OTHER_TRUST, MODEL)

# Expected status per role (the monitor belongs to NRT).
MATRIX = {
    None: (401, 401, 401, 401, 401),
    m.StaffRole.TRUST_MONITOR: (200, 200, 200, 403, 403),
    m.StaffRole.RESEARCHER: (200, 200, 200, 200, 200),
    m.StaffRole.ADMIN: (200, 200, 200, 200, 200),
}


def test_access_matrix(db: Session, client: FlaskClient, auth: StaffLogin,
                       sign_in: Callable[..., m.User], demo: m.Study) -> None:
    nrt = db.scalar(select(m.Organisation).where(m.Organisation.code == "NRT"))
    for role, expected in MATRIX.items():
        auth.logout()
        if role is not None:
            sign_in(role=role, organisation=nrt if role == m.StaffRole.TRUST_MONITOR else None)
        for url, status in zip(URLS, expected, strict=True):
            got, body, mimetype = json_of(client, url)
            assert got == status, f"{role} GET {url}: {got}, expected {status}"
            if status == 200:
                assert mimetype == "application/json"
            else:
                assert mimetype == "application/problem+json"
                assert body["status"] == status and body["title"] and body["detail"]


def test_inactive_account_is_401(db: Session, client: FlaskClient, sign_in: Callable[..., m.User]) -> None:
    user = sign_in(role=m.StaffRole.ADMIN)
    user.active = False
    db.commit()
    status, body, _ = json_of(client, STUDIES)
    assert status == 401 and "sign in" in body["detail"].lower()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_only_get_is_allowed(client: FlaskClient, sign_in: Callable[..., m.User], method: str) -> None:
    sign_in(role=m.StaffRole.ADMIN)
    response = getattr(client, method)(STUDIES)
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "GET" in response.headers["Allow"]
    assert response.get_json(force=True)["status"] == 405


def test_unknown_api_path_is_json_but_other_pages_stay_html(client: FlaskClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert response.get_json(force=True) == {
        "status": 404, "title": "Not Found", "detail": response.get_json(force=True)["detail"]}
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert client.post("/dashboard/").mimetype == "text/html"


def test_unknown_trust_and_study_are_404(db: Session, client: FlaskClient, sign_in: Callable[..., m.User],
                                         trust: dict[str, object]) -> None:
    sign_in(role=m.StaffRole.RESEARCHER)
    study = trust["study"]
    assert isinstance(study, m.Study)
    for url, what in ((f"/api/v1/trusts/NOPE/dashboard?study={study.code}", "NOPE"),
                      ("/api/v1/trusts/NRT/dashboard?study=nope", "nope"),
                      ("/api/v1/studies/nope/model?scale=equality", "nope")):
        status, body, mimetype = json_of(client, url)
        assert (status, mimetype) == (404, "application/problem+json"), url
        assert f"'{what}'" in body["detail"]


def test_dashboard_needs_the_study(client: FlaskClient, sign_in: Callable[..., m.User],
                                   trust: dict[str, object]) -> None:
    sign_in(role=m.StaffRole.ADMIN)
    status, body, _ = json_of(client, "/api/v1/trusts/NRT/dashboard")
    assert status == 400 and "'study'" in body["detail"]


def test_unexpected_error_is_a_json_500_without_traceback(
        db: Session, client: FlaskClient, sign_in: Callable[..., m.User],
        monkeypatch: pytest.MonkeyPatch) -> None:
    sign_in(role=m.StaffRole.ADMIN)
    f.StudyFactory()
    db.commit()

    def broken(_study: m.Study) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("survey.api.views.study_json", broken)
    status, body, mimetype = json_of(client, STUDIES)
    assert (status, mimetype) == (500, "application/problem+json")
    assert body["status"] == 500 and "secret internals" not in str(body)
