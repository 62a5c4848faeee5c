"""Personal link tokens are kept only as their SHA-256 digest."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.services.tokens import find_invitation, hash_token, issue_token
from tests import factories as f

# SHA-256("abc"): the test vector of FIPS 180-2, appendix B.1.
ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_hash_token_is_sha256_of_the_utf8_text() -> None:
    assert hash_token("abc") == ABC_SHA256


def test_only_the_digest_is_stored_and_it_finds_the_invitation(db: Session) -> None:
    invitation = f.OpenInvitationFactory()
    token = issue_token(db, invitation)
    db.commit()
    stored = db.scalars(select(m.LinkToken.token_hash)).one()
    assert stored == hash_token(token) and token not in stored
    assert len(token) >= 32  # 24 random bytes, base64url
    assert find_invitation(db, token) == invitation
    assert find_invitation(db, stored) is None  # the digest itself is not a key
    assert find_invitation(db, "") is None and find_invitation(db, token + "x" * 100) is None
