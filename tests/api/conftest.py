"""Fixtures for the API tests: signed-in staff and the demo study."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.services.demo import load_demo
from tests import factories as f
from tests.conftest import StaffLogin
from tests.dashboard.test_dashboard import trust  # noqa: F401  (the fixture: one trust with a 2-person team)

DEMO_DAY = dt.date(2026, 11, 26)


@pytest.fixture
def sign_in(db: Session, auth: StaffLogin) -> Callable[..., m.User]:
    """Sign in as a new staff user with these factory traits."""

    def signed_in(**traits: Any) -> m.User:
        user = f.UserFactory(**traits)
        db.commit()
        response = auth.login(user.email)
        assert response.status_code == 302, "sign-in failed"
        return user

    return signed_in


@pytest.fixture
def demo(db: Session) -> m.Study:
    """The demo study: four trusts, twelve teams, four waves of answers."""
    load_demo(db, today=DEMO_DAY)
    db.commit()
    return db.scalars(select(m.Study).where(m.Study.code == "demo")).one()


def json_of(client: FlaskClient, url: str) -> tuple[int, Any, str]:
    """GET a URL: status, parsed JSON body and mimetype."""
    response = client.get(url)
    return response.status_code, response.get_json(force=True, silent=True), response.mimetype
