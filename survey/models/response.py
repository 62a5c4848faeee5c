"""Responses, their answers, and the scale scores written at submission."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base, utcnow
from survey.models._types import intpk, str40
from survey.models.invitation import Invitation


class Response(Base):
    """One invitation's questionnaire, pinned to an instrument version and its content hash."""

    __tablename__ = "response"

    id: Mapped[intpk]
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), unique=True
    )
    instrument_id: Mapped[str40]
    instrument_version: Mapped[int]
    instrument_hash: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None]
    # Ids of the questionnaire pages saved so far: a page whose items were all skipped still
    # counts as done, without inventing answers (resume goes to the first page not listed).
    pages_saved: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )

    invitation: Mapped[Invitation] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )
    scores: Mapped[list[ScaleScore]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class Answer(Base):
    """One item's answer; value None means "does not apply" (missing, not a midpoint)."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("response_id", "item_id"),)

    id: Mapped[intpk]
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    item_id: Mapped[str40]
    value: Mapped[int | None]
    answered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    response: Mapped[Response] = relationship(back_populates="answers")


class ScaleScore(Base):
    """A scale's score for one response, so dashboards never rescore raw answers."""

    __tablename__ = "scale_score"
    __table_args__ = (UniqueConstraint("response_id", "scale"),)

    id: Mapped[intpk]
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    scale: Mapped[str40]
    score: Mapped[float | None]
    items_answered: Mapped[int]

    response: Mapped[Response] = relationship(back_populates="scores")
