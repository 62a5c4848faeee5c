"""The API token service: names refused with a reason, revoking once, nothing committed by it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.services import api_tokens
from survey.services.errors import InputError
from tests import factories as f


@pytest.mark.parametrize(("name", "message"), [
    (" \t ", "Give the token a name"),
    ("x" * 81, "at most 80 characters (this name has 81)"),
])
def test_a_bad_name_is_refused_and_nothing_is_added(db: Session, name: str, message: str) -> None:
    user = f.UserFactory()
    db.flush()
    with pytest.raises(InputError) as refused:
        api_tokens.create(db, user, name)
    assert message in refused.value.by_field()["name"]
    assert db.scalar(select(func.count()).select_from(m.ApiToken)) == 0


def test_a_name_may_be_used_again_once_its_token_is_revoked(db: Session) -> None:
    user = f.UserFactory()
    db.flush()
    first, _ = api_tokens.create(db, user, "cron")
    revoked = api_tokens.revoke(db, user, first.id)
    assert revoked.revoked_at is not None and not revoked.active
    with pytest.raises(InputError) as again:
        api_tokens.revoke(db, user, first.id)
    assert "already revoked" in again.value.by_field()["token"]
    second, token = api_tokens.create(db, user, "cron")
    assert second.active and token.startswith("pp_")
    assert [t.name for t in api_tokens.for_owner(db, user)] == ["cron", "cron"]
    db.rollback()  # the service leaves the commit to its caller
    assert db.scalar(select(func.count()).select_from(m.ApiToken)) == 0
