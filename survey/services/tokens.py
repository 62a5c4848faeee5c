"""Personal link tokens: random, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from survey.models import Invitation, LinkToken, Participant

TOKEN_BYTES = 24  # 192 bits of randomness


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(db: Session, invitation: Invitation) -> str:
    """Create a new personal link token for an invitation and return it (the only time it exists)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.add(LinkToken(token_hash=hash_token(token), invitation=invitation))
    return token


# Built once: its cache key is then computed once, not on every request.
_BY_TOKEN_HASH = (
    select(Invitation)
    .join(LinkToken)
    .where(LinkToken.token_hash == bindparam("token_hash"))
    .options(
        joinedload(Invitation.participant, innerjoin=True).joinedload(
            Participant.study, innerjoin=True
        ),
        joinedload(Invitation.wave, innerjoin=True),
    )
)


def lookup_hash(token: str) -> str | None:
    """The hash to look a presented token up by; None for one that cannot be a token."""
    if not token or len(token) > 100:
        return None
    return hash_token(token)


def find_invitation(db: Session, token: str) -> Invitation | None:
    """The invitation a token belongs to, by hash; None for anything unknown or malformed.

    Its participant, study and wave come in the same query. (Respondent pages read a link
    with `survey.services.respondent.read_visit`, which needs no ORM objects.)
    """
    token_hash = lookup_hash(token)
    return None if token_hash is None else db.scalar(_BY_TOKEN_HASH, {"token_hash": token_hash})


def survey_url(base_url: str, token: str) -> str:
    """The personal survey link."""
    return f"{base_url.rstrip('/')}/r/{token}"


def withdraw_url(base_url: str, token: str) -> str:
    """The personal withdrawal link."""
    return f"{base_url.rstrip('/')}/r/{token}/withdraw"


def emails_url(base_url: str, token: str) -> str:
    """The personal "no more emails" link (List-Unsubscribe, RFC 8058 one-click)."""
    return f"{base_url.rstrip('/')}/r/{token}/emails"


def later_url(base_url: str, token: str) -> str:
    """The personal "remind me later" link."""
    return f"{base_url.rstrip('/')}/r/{token}/later"
