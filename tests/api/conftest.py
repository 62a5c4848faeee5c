"""Fixtures for the API tests: signed-in staff (the demo study and `trust` are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey import models as m
from tests import factories as f
from tests.conftest import StaffLogin


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


def json_of(client: FlaskClient, url: str) -> tuple[int, Any, str]:
    """GET a URL: status, parsed JSON body and mimetype."""
    response = client.get(url)
    return response.status_code, response.get_json(force=True, silent=True), response.mimetype


@pytest.fixture
def make_token(db: Session) -> Callable[..., tuple[m.User, str]]:
    """A new staff user with these factory traits and a personal API token (user, token)."""
    from survey.services import api_tokens

    def made(name: str = "script", **traits: Any) -> tuple[m.User, str]:
        user = f.UserFactory(**traits)
        db.flush()
        _row, token = api_tokens.create(db, user, name)
        db.commit()
        return user, token

    return made


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a personal API token."""
    return {"Authorization": f"Bearer {token}"}
