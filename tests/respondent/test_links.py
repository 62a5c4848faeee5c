"""Personal links: what each state of a link shows, and the limit on guessing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import utcnow
from survey.extensions import limiter
from tests import factories as f
from tests.respondent.conftest import PersonalLink, link_in, make_link

UNKNOWN = "/r/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def test_unknown_token_gets_a_plain_404(client: FlaskClient) -> None:
    response = client.get(UNKNOWN)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "This link does not work" in html
    assert "Traceback" not in html


@pytest.mark.parametrize("path", ["", "/consent", "/page/1", "/thanks", "/withdraw"])
def test_every_token_route_refuses_an_unknown_token(client: FlaskClient, path: str) -> None:
    assert client.get(UNKNOWN + path).status_code == 404


def _closed(inv: m.Invitation) -> None:
    inv.opens_at = utcnow() - dt.timedelta(days=30)
    inv.closes_at = utcnow() - dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (_closed, 410),
        (lambda inv: setattr(inv, "status", m.InvitationStatus.EXPIRED), 410),
        (lambda inv: setattr(inv, "status", m.InvitationStatus.CANCELLED), 410),
        (lambda inv: setattr(inv.participant, "status", m.ParticipantStatus.WITHDRAWN), 404),
        (lambda inv: setattr(inv.participant, "consent_decision", m.ConsentDecision.DECLINED), 404),
        (lambda inv: setattr(inv, "status", m.InvitationStatus.SCHEDULED), 404),
        (lambda inv: setattr(inv, "opens_at", utcnow() + dt.timedelta(days=1)), 404),
    ],
    ids=["past-window", "expired", "cancelled", "withdrawn", "declined", "scheduled", "not-open"],
)
def test_closed_links_show_the_same_page_as_unknown_ones(
    db: Session, client: FlaskClient, link: PersonalLink, change: Any, code: int
) -> None:
    change(link.invitation)
    db.commit()
    unknown = client.get(UNKNOWN)
    response = client.get(link.url)
    assert response.status_code == code
    # The body says nothing about whether the token ever existed.
    assert response.get_data() == unknown.get_data()


def test_open_link_goes_to_the_first_page(client: FlaskClient, link: PersonalLink) -> None:
    response = client.get(link.url)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{link.url}/page/1")


def test_link_of_a_participant_without_consent_goes_to_consent(db: Session, client: FlaskClient) -> None:
    fresh = make_link(db, participant=f.ParticipantFactory())
    response = client.get(fresh.url)
    assert response.headers["Location"].endswith(f"{fresh.url}/consent")


def test_guessing_links_is_rate_limited(make_app: Any) -> None:
    app = make_app(RATELIMIT_ENABLED=True, RESPONDENT_GUESS_LIMIT="5 per minute")
    limiter.reset()  # the in-memory counts outlive an app: start from none
    client = app.test_client()
    codes = [client.get(f"/r/guess{n:04d}").status_code for n in range(7)]
    assert codes[:5] == [404] * 5
    assert codes[5:] == [429, 429]


def test_ordinary_use_of_a_real_link_does_not_count_as_guessing(make_app: Any) -> None:
    app = make_app(RATELIMIT_ENABLED=True, RESPONDENT_GUESS_LIMIT="5 per minute")
    real = link_in(app)
    limiter.reset()  # the in-memory counts outlive an app: start from none
    client = app.test_client()
    codes = {client.get(f"{real.url}/page/1").status_code for _ in range(12)}
    assert codes == {200}
