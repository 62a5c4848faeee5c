"""Personal API tokens of staff accounts, stored only as a SHA-256 hash."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base, utcnow
from survey.models._types import intpk
from survey.models.staff import User


class ApiToken(Base):
    """A token a staff member made for scripts: it acts as its owner on the JSON API."""

    __tablename__ = "api_token"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # The token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()

    @property
    def active(self) -> bool:
        """Whether the token still works (its owner's account is checked separately)."""
        return self.revoked_at is None
