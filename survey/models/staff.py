"""Staff accounts and the audit log."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from survey.db import Base, utcnow
from survey.models._types import StaffRole, enum_column, intpk
from survey.models.organisation import Organisation


def new_session_token() -> str:
    """A fresh random session token (256 bits)."""
    return secrets.token_urlsafe(32)


class User(Base):
    """A staff account: admin, researcher, or trust monitor scoped to one trust."""

    __tablename__ = "user_account"

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = mapped_column(enum_column(StaffRole))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]
    # What a half-finished sign-in (password matched, second factor pending) names; renewed
    # whenever every session of the account ends, so a pending step ends too.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    # TOTP second factor: the base32 secret, when it was confirmed, the last time step accepted.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[dt.datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Only the demo sets this: in demo mode (PEERPULSE_DEMO=1) only, a demo account signs in
    # with its (published) password alone; outside demo mode it cannot sign in at all.
    is_demo: Mapped[bool] = mapped_column(default=False, server_default=false())

    organisation: Mapped[Organisation | None] = relationship()
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    # Flask-Login's user protocol (the cookie names a StaffSession, see survey.auth.sessions).
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        """Whether the account may be signed in (Flask-Login)."""
        return self.active

    def get_id(self) -> str:
        """The account token (Flask-Login); sign-in then stores its StaffSession's token instead."""
        return self.session_token

    def renew_session_token(self) -> None:
        """Give the account a new account token, which ends any half-finished sign-in."""
        self.session_token = new_session_token()

    @property
    def has_second_factor(self) -> bool:
        """Whether a TOTP second factor is set up and confirmed."""
        return self.totp_enabled_at is not None and self.totp_secret is not None

    @property
    def recovery_codes_left(self) -> int:
        """How many recovery codes are still unused."""
        return sum(1 for code in self.recovery_codes if code.used_at is None)

    def needs_second_factor(self, demo_mode: bool) -> bool:
        """Admins and researchers (they can export data) need one; demo accounts only in demo mode."""
        return self.role in (StaffRole.ADMIN, StaffRole.RESEARCHER) and not (self.is_demo and demo_mode)

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password (never the password)."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Whether the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def can_see_organisation(self, organisation_id: int) -> bool:
        """Admins and researchers see every trust; a monitor only their own."""
        if self.role in (StaffRole.ADMIN, StaffRole.RESEARCHER):
            return True
        return self.organisation_id == organisation_id


class RecoveryCode(Base):
    """A one-time recovery code for the second factor, stored only as a salted hash."""

    __tablename__ = "recovery_code"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(128))
    used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(back_populates="recovery_codes")


class StaffSession(Base):
    """One signed-in staff session, ended on the server by sign-out, expiry or the account's reset.

    The cookie holds a random token; the table keeps only its SHA-256 (a copy of the database
    does not sign anyone in). A session ends for good: `ended_at` is set and never cleared.
    """

    __tablename__ = "staff_session"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    # Why it ended: signed-out, idle, time-limit, account (reset, deactivated, everywhere).
    ended_reason: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship()


class AuditEvent(Base):
    """Who did what, when, to what (never the content of answers or contact details)."""

    __tablename__ = "audit_event"

    id: Mapped[intpk]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
