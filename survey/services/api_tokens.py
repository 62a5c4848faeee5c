"""Personal API tokens: staff make, name and revoke their own; a token acts as its owner.

A token is `pp_` and 43 URL-safe characters from `secrets` (256 bits), shown once when made and
stored only as its SHA-256 hash (the hashing of personal links, `tokens.lookup_hash`). Every use
updates its last-used time and is audited with its name; a refused token writes nothing.
Callers commit (`survey.web.commit_after`).
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from survey.db import utcnow
from survey.models import ApiToken, User
from survey.services.audit import record_event
from survey.services.errors import InputError, character_problem
from survey.services.tokens import lookup_hash

PREFIX = "pp_"
TOKEN_BYTES = 32
#: What every token looks like; anything else is refused before the database is asked.
TOKEN_PATTERN = re.compile(r"pp_[A-Za-z0-9_-]{43}")
NAME_LENGTH = 80
#: The field of every refusal of a presented token.
REFUSAL_FIELD = "token"


def _new_token() -> str:
    return PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def create(db: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """Make a named token for `user`; returns the row and the token (the only time it exists)."""
    if (unstorable := character_problem(name)) is not None:
        raise InputError({"name": f"The name {unstorable}."})
    name = " ".join(name.split())
    if not name:
        raise InputError({"name": "Give the token a name, e.g. the script or computer that will use it."})
    if len(name) > NAME_LENGTH:
        raise InputError({"name": f"Use at most {NAME_LENGTH} characters (this name has {len(name)})."})
    taken = db.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.name == name,
                                                ApiToken.revoked_at.is_(None)))
    if taken is not None:
        raise InputError({"name": f"You already have a token named '{name}': choose another name."})
    token = _new_token()
    token_hash = lookup_hash(token)
    assert token_hash is not None  # a token we made is always well formed
    row = ApiToken(user=user, name=name, token_hash=token_hash)
    db.add(row)
    db.flush()
    record_event(db, user, "api_token.create", "api_token", row.id, {"token": name})
    return row, token


def for_owner(db: Session, user: User) -> list[ApiToken]:
    """The account's tokens, newest first (revoked ones too, marked by `revoked_at`)."""
    return list(db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                           .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke(db: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of the account's own tokens; it stops working at once."""
    row = db.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if row is None:
        raise InputError({REFUSAL_FIELD: "You have no such token."})
    if row.revoked_at is not None:
        raise InputError({REFUSAL_FIELD: f"The token '{row.name}' was already revoked."})
    row.revoked_at = utcnow()
    record_event(db, user, "api_token.revoke", "api_token", row.id, {"token": row.name})
    return row


def authenticate(db: Session, presented: str, method: str, path: str, *, demo_mode: bool) -> ApiToken:
    """The token presented with an API request, its use recorded; InputError (nothing written) if refused.

    The owner must be an active account that could sign in: an admin's or researcher's account
    needs its second factor (unless a demo account in demo mode), as a session does; a demo
    account's tokens work only in demo mode.
    """
    if not TOKEN_PATTERN.fullmatch(presented):
        raise InputError({REFUSAL_FIELD: "The bearer token is malformed: a PeerPulse token is 'pp_' "
                                       "and 43 letters, digits, '-' or '_'. Copy it again, whole."})
    token_hash = lookup_hash(presented)
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash)
                    .options(joinedload(ApiToken.user, innerjoin=True)))
    if row is None:
        raise InputError({REFUSAL_FIELD: "This token is not known. Make one on your account page."})
    if row.revoked_at is not None:
        raise InputError({REFUSAL_FIELD: f"This token was revoked on {row.revoked_at:%d %B %Y}. "
                                       "Make a new one on your account page."})
    owner = row.user
    if not owner.active:
        raise InputError({REFUSAL_FIELD: "The account that owns this token is disabled."})
    if owner.is_demo and not demo_mode:
        raise InputError({REFUSAL_FIELD: "The account that owns this token is a demo account, which "
                                       "works only while PeerPulse runs in demo mode."})
    if owner.needs_second_factor(demo_mode) and not owner.has_second_factor:
        raise InputError({REFUSAL_FIELD: "The account that owns this token must set up two-factor "
                                       "sign-in again before its tokens work."})
    row.last_used_at = utcnow()
    record_event(db, owner, "api.token_use", "api_token", row.id,
                 {"token": row.name, "method": method, "path": path})
    return row
