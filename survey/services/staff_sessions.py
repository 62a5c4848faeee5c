"""Server-side staff sessions: open one at sign-in, check it on every request, end it for good.

The session cookie holds only a random token; the `staff_session` row keeps its SHA-256, the
account, when it began and was last seen, and when and why it ended. A session is refused
once it has ended (signed out, reset, deactivated), after `idle` without a request, or
`limit` after sign-in, whatever the cookie says, so a copied cookie stops working too.
The clock is `_now()`. Callers commit (survey.web.commit_after, survey.auth.sessions).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from survey.models import ApiToken, StaffSession, User
from survey.services.audit import record_event

TOKEN_BYTES = 32
# Last-seen times are written at most this often (a request is not a write each time).
TOUCH_EVERY = dt.timedelta(minutes=1)
# Why a session ended (StaffSession.ended_reason).
SIGNED_OUT, IDLE, TIME_LIMIT, ACCOUNT, ENDED = "signed-out", "idle", "time-limit", "account", "ended"


class Resumed(NamedTuple):
    """What a request's cookie token leads to: the open session, or why there is none."""

    session: StaffSession | None
    # Why the session cannot be used (IDLE, TIME_LIMIT, ACCOUNT, ENDED), else None.
    refused: str | None
    # Whether its last-seen time is old enough to write again.
    stale: bool = False


def _now() -> dt.datetime:
    """The one clock of sign-in, `sign_in.now()` (imported here: sign_in imports this module)."""
    from survey.services import sign_in

    return sign_in.now()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(db: Session, user: User, method: str) -> str:
    """Record a finished sign-in and open its session; returns the cookie's token (only here).

    `method` is how the second step went: password (demo, or no second factor), totp or recovery.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    at = _now()
    db.add(StaffSession(token_hash=_hash(token), user_id=user.id, created_at=at, last_seen_at=at))
    user.last_login_at = at
    record_event(db, user, "login", "user", user.id, {"second_factor": method})
    db.flush()
    return token


def resume(db: Session, token: str, *, idle: dt.timedelta, limit: dt.timedelta,
           demo_mode: bool) -> Resumed:
    """The open session a cookie token names, checked against its end, its limits and its account."""
    if not token or len(token) > 100:
        return Resumed(None, ENDED)
    row = db.scalar(select(StaffSession).where(StaffSession.token_hash == _hash(token))
                    .options(joinedload(StaffSession.user, innerjoin=True)))
    if row is None or row.ended_at is not None:
        return Resumed(None, ENDED)
    at = _now()
    if not row.user.active or (row.user.is_demo and not demo_mode):
        return Resumed(row, ACCOUNT)
    if at - row.last_seen_at > idle:
        return Resumed(row, IDLE)
    if at - row.created_at > limit:
        return Resumed(row, TIME_LIMIT)
    return Resumed(row, None, stale=at - row.last_seen_at >= TOUCH_EVERY)


def touch(db: Session, session_id: int) -> None:
    """Record that an open session was used now."""
    db.execute(update(StaffSession).where(StaffSession.id == session_id, StaffSession.ended_at.is_(None))
               .values(last_seen_at=_now()).execution_options(synchronize_session=False))


def end(db: Session, token_or_id: str | int, reason: str) -> bool:
    """End one session (by its cookie token or its id); returns whether it was still open."""
    which = (StaffSession.id == token_or_id if isinstance(token_or_id, int)
             else StaffSession.token_hash == _hash(token_or_id))
    result = db.execute(update(StaffSession).where(which, StaffSession.ended_at.is_(None))
                        .values(ended_at=_now(), ended_reason=reason)
                        .execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0))


def sign_out(db: Session, user: User, token: str) -> None:
    """End this browser's session on the server (other sessions of the account stay), audited."""
    end(db, token, SIGNED_OUT)
    record_event(db, user, "logout", "user", user.id)


def end_all(db: Session, user: User, reason: str = ACCOUNT) -> int:
    """End every open session of the account, and any half-finished sign-in; returns how many."""
    user.renew_session_token()
    result = db.execute(update(StaffSession)
                        .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
                        .values(ended_at=_now(), ended_reason=reason)
                        .execution_options(synchronize_session=False))
    db.flush()
    return int(getattr(result, "rowcount", 0))


def lock_out(db: Session, user: User, by: User | None = None, actor: str | None = None) -> None:
    """End every session of the account and revoke its API tokens (deactivation, password reset).

    A revoked token stays revoked when the account is reactivated: its owner makes new ones.
    """
    end_all(db, user, ACCOUNT)
    revoked = db.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                         .values(revoked_at=_now()).execution_options(synchronize_session=False))
    if count := int(getattr(revoked, "rowcount", 0)):
        record_event(db, by, "api_token.revoke_all", "user", user.id, {"tokens": count}, actor=actor)
