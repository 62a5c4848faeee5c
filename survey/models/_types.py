"""Shared column types and enumerations for the domain tables."""

from __future__ import annotations

import enum
from typing import Annotated

from sqlalchemy import Enum as SAEnum
from sqlalchemy import String
from sqlalchemy.orm import mapped_column

intpk = Annotated[int, mapped_column(primary_key=True)]
str40 = Annotated[str, mapped_column(String(40))]
str200 = Annotated[str, mapped_column(String(200))]


def enum_column(enum_cls: type[enum.Enum]) -> SAEnum:
    """Store an enum by its value as a short string (portable, readable in SQL)."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        length=20,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )


class Role(enum.StrEnum):
    """A participant's role in the team."""

    PEER_WORKER = "peer_worker"
    COLLEAGUE = "colleague"
    MANAGER = "manager"

    @property
    def audience(self) -> str:
        """The survey a role answers and the group it is analysed in: managers are colleagues."""
        return "peer_worker" if self is Role.PEER_WORKER else "colleague"


class ParticipantStatus(enum.StrEnum):
    """Whether a participant is still taking part."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class ConsentDecision(enum.StrEnum):
    """What a participant said to the consent page."""

    GIVEN = "given"
    DECLINED = "declined"


class StudyStatus(enum.StrEnum):
    """A study that is paused sends nothing."""

    ACTIVE = "active"
    PAUSED = "paused"


class InvitationStatus(enum.StrEnum):
    """The life of one participant × wave invitation."""

    SCHEDULED = "scheduled"
    SENT = "sent"
    STARTED = "started"
    COMPLETED = "completed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class OutboxStatus(enum.StrEnum):
    """Delivery state of one queued email."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StaffRole(enum.StrEnum):
    """What a staff account may see and do."""

    ADMIN = "admin"
    RESEARCHER = "researcher"
    TRUST_MONITOR = "trust_monitor"


class Receipt(enum.StrEnum):
    """What the provider later reported about a message it accepted (Notify status, a DSN)."""

    TEMPORARY_FAILURE = "temporary-failure"
    DELIVERED = "delivered"
    PERMANENT_FAILURE = "permanent-failure"

    @property
    def rank(self) -> int:
        """Receipts only move up this order, so duplicates and late arrivals change nothing."""
        return list(Receipt).index(self)


class Channel(enum.StrEnum):
    """How a participant's invitations and reminders reach them."""

    EMAIL = "email"
    SMS = "sms"
    BOTH = "both"

    @property
    def uses_email(self) -> bool:
        """Email is one of the channels."""
        return self in (Channel.EMAIL, Channel.BOTH)

    @property
    def uses_sms(self) -> bool:
        """Text messages are one of the channels."""
        return self in (Channel.SMS, Channel.BOTH)
