"""The outbox: email written in the same transaction as the state change it reports."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base, utcnow
from survey.models._types import OutboxStatus, Receipt, enum_column, intpk


class OutboxMessage(Base):
    """One email to deliver; dedupe_key makes a second copy of the same message impossible."""

    __tablename__ = "outbox_message"

    id: Mapped[intpk]
    # e.g. "invite:42", "remind:42:1": unique, so the same email can never be queued twice.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="SET NULL"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus), default=OutboxStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    # A delivery worker's lease: while claimed_until is in the future no other worker takes it.
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    claimed_until: Mapped[dt.datetime | None]
    # "email" or "sms": which transport delivers it (an SMS has no subject and no HTML body).
    channel: Mapped[str] = mapped_column(String(10), default="email", server_default="email")
    # The provider's later word on a sent message (Notify's callback, a bounce), and when.
    receipt: Mapped[Receipt | None] = mapped_column(enum_column(Receipt))
    receipt_at: Mapped[dt.datetime | None]
    # The receipt's status code and diagnostic, with any address removed.
    receipt_detail: Mapped[str | None] = mapped_column(Text)
    # An email's one-click unsubscribe URL (List-Unsubscribe); holds a live link, so it is
    # cleared with the bodies once the message is sent.
    unsubscribe_url: Mapped[str | None] = mapped_column(Text)
