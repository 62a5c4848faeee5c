"""Fixtures for the administrator's pages: signing in by role, counting rows, CSRF tokens."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import Base
from tests import factories as f
from tests.conftest import StaffLogin

SignIn = Callable[..., m.User]


def new_user(**fields: Any) -> m.User:
    """A staff account from the factory, typed (factory_boy's stubs say "UserFactory")."""
    return cast(m.User, f.UserFactory(**fields))


def new_trust(**fields: Any) -> m.Organisation:
    """A trust from the factory, typed."""
    return cast(m.Organisation, f.OrganisationFactory(**fields))


@pytest.fixture
def sign_in(db: Session, auth: StaffLogin) -> SignIn:
    """Create a staff user with these factory traits and sign them in."""

    def signed_in(**traits: object) -> m.User:
        user = new_user(**traits)
        db.commit()
        assert auth.login(user.email).status_code == 302
        return user

    return signed_in


@pytest.fixture
def admin(sign_in: SignIn) -> m.User:
    """A signed-in administrator."""
    return sign_in(admin=True)


def count(db: Session, model: type[Base]) -> int:
    """How many rows a table holds now (a fresh read, after the request's commit)."""
    db.rollback()  # end the read snapshot
    return db.scalar(select(func.count()).select_from(model)) or 0


def csrf_token(client: FlaskClient, path: str) -> str:
    """The first CSRF token on a page."""
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"', page)
    assert found is not None, f"no CSRF token on {path}"
    return found.group(1)
