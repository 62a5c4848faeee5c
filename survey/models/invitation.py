"""Invitations (participant × wave) and the hashed tokens of personal links."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from sqlalchemy import ColumnElement, ForeignKey, String, UniqueConstraint
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base, utcnow
from survey.models._types import InvitationStatus, enum_column, intpk
from survey.models.participant import Participant
from survey.models.study import Wave


class Invitation(Base):
    """One participant's invitation to one wave; unique per participant and wave."""

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("participant_id", "wave_id"),)

    id: Mapped[intpk]
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    status: Mapped[InvitationStatus] = mapped_column(
        enum_column(InvitationStatus), default=InvitationStatus.SCHEDULED, index=True
    )
    opens_at: Mapped[dt.datetime] = mapped_column(index=True)
    closes_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    reminders_sent: Mapped[int] = mapped_column(default=0)
    last_reminder_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    # "Remind me later": the respondent's chosen time for their next reminder (within the
    # study's sending hours); the scheduler sends it once, then clears it.
    remind_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    participant: Mapped[Participant] = relationship()
    wave: Mapped[Wave] = relationship()
    tokens: Mapped[list[LinkToken]] = relationship(
        back_populates="invitation", cascade="all, delete-orphan"
    )

    # The one definition of the state groups: open (its link works, reminders may go) and
    # unfinished (may still lead to messages or answers; completed, expired, cancelled are history).
    OPEN_STATES: ClassVar[tuple[InvitationStatus, ...]] = (
        InvitationStatus.SENT, InvitationStatus.STARTED)
    UNFINISHED_STATES: ClassVar[tuple[InvitationStatus, ...]] = (
        InvitationStatus.SCHEDULED, *OPEN_STATES)

    @hybrid_property
    def is_open(self) -> bool:
        """Sent or started (not yet completed, expired or cancelled); also a SQL expression."""
        return self.status in self.OPEN_STATES

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls) -> ColumnElement[bool]:
        return cls.status.in_(cls.OPEN_STATES)


class LinkToken(Base):
    """A personal link's token, stored only as its SHA-256 hash."""

    __tablename__ = "link_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    invitation: Mapped[Invitation] = relationship(back_populates="tokens")
