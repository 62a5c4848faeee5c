"""Free-text answers reach researchers only: never a dashboard, its CSV, or the API."""

from __future__ import annotations

import io
import zipfile

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from survey import models as m
from survey.services.demo import DEMO_PASSWORD
from tests.conftest import StaffLogin

MARK = "FREE-TEXT-ANSWER-"


def _mark_free_text(db: Session) -> int:
    """Make every stored free-text answer unmistakable; how many there are."""
    ids = db.scalars(select(m.Answer.id).where(m.Answer.value_text.is_not(None))).all()
    for answer_id in ids:
        db.execute(update(m.Answer).where(m.Answer.id == answer_id)
                   .values(value_text=f"{MARK}{answer_id} my team lead should listen more."))
    db.commit()
    return len(ids)


def _pages(client: FlaskClient, urls: list[str]) -> str:
    bodies = []
    for url in urls:
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        bodies.append(response.get_data(as_text=True))
    return "\n".join(bodies)


def test_no_dashboard_csv_or_api_view_holds_free_text(
    db: Session, demo: m.Study, client: FlaskClient, auth: StaffLogin, app: Flask
) -> None:
    assert _mark_free_text(db) > 0
    team = db.scalars(select(m.Team.code).join(m.Organisation)
                      .where(m.Organisation.code == "NRT")).first()
    monitor_views = [
        "/dashboard/", "/dashboard/NRT?study=demo", "/dashboard/NRT/figures.csv?study=demo",
        f"/dashboard/NRT/teams/{team}?study=demo",
        f"/dashboard/NRT/teams/{team}/figures.csv?study=demo",
        "/api/v1/studies", "/api/v1/trusts/NRT/dashboard?study=demo",
        f"/api/v1/trusts/NRT/dashboard?study=demo&team={team}",
    ]
    auth.login("monitor.nrt@example.org", DEMO_PASSWORD)
    seen = _pages(client, monitor_views)
    assert "Trust" in seen or "trust" in seen
    assert MARK not in seen
    # Researchers see it only in the export, not on the model or reliability pages or the API's
    # long data (the FHIR endpoint leaves it out unless asked: tests/api/test_research_data_api.py).
    client = app.test_client()
    StaffLogin(client).login("researcher@example.org", DEMO_PASSWORD)
    seen = _pages(client, [*monitor_views, "/research/", "/research/demo/reliability",
                           "/api/v1/studies/demo/model?scale=equality",
                           "/api/v1/studies/demo/long", "/api/v1/studies/demo/long?format=csv"])
    assert MARK not in seen
    export = zipfile.ZipFile(io.BytesIO(client.get("/research/demo/export.zip").data))
    assert MARK.encode() in export.read("items_peer_worker_v2.csv")


def test_researchers_read_free_text_on_an_audited_page(
    db: Session, demo: m.Study, client: FlaskClient, auth: StaffLogin, app: Flask
) -> None:
    marked = _mark_free_text(db)
    auth.login("researcher@example.org", DEMO_PASSWORD)
    assert 'href="/research/demo/free-text"' in client.get("/research/").get_data(as_text=True)
    page = client.get("/research/demo/free-text").get_data(as_text=True)
    assert page.count(MARK) == marked
    assert "<caption>What one thing would make the peer worker role work better in your team? " \
           "(peer_worker v2," in page
    event = db.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "free_text.view")).one()
    assert event.detail == {"answers": marked}
    monitor = app.test_client()
    StaffLogin(monitor).login("monitor.nrt@example.org", DEMO_PASSWORD)
    refused = monitor.get("/research/demo/free-text")
    assert refused.status_code == 403 and MARK not in refused.get_data(as_text=True)
