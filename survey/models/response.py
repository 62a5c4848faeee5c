"""Responses, their answers, and the scale scores written at submission."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ColumnElement, Float, ForeignKey, String, Text, UniqueConstraint, text
from sqlalchemy.ext.hybrid import hybrid_property
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

    # Ids of the items a condition hid from this response ("not asked", a missing kind of
    # its own: neither "not answered" nor "does not apply"), written at submission.
    items_not_asked: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    # Randomised pages: the seed drawn when the response started and the order it gave each
    # shuffled page ({page id: [item ids]}), so the order is the same on every visit, in
    # every language, and is exported for analysis of order effects.
    order_seed: Mapped[int | None]
    item_order: Mapped[dict[str, list[str]]] = mapped_column(
        JSON, default=dict, server_default=text("'{}'")
    )
    # Each saved page's revision ({page id: times saved}): a page form carries the revision it
    # was shown at, and a post of an older one (a copy kept offline and sent twice, or sent
    # after a newer save) changes nothing (survey.services.responses.save_page).
    page_revisions: Mapped[dict[str, int]] = mapped_column(
        JSON, default=dict, server_default=text("'{}'")
    )
    # The language the answers were given in: the participant's at the last page saved
    # (the one the questionnaire was finished in), so the two versions can be compared.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    invitation: Mapped[Invitation] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )
    scores: Mapped[list[ScaleScore]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )

    @hybrid_property
    def is_submitted(self) -> bool:
        """Submitted (its answers count in analysis and exports); also a SQL expression."""
        return self.submitted_at is not None

    @is_submitted.inplace.expression
    @classmethod
    def _is_submitted_expression(cls) -> ColumnElement[bool]:
        return cls.submitted_at.is_not(None)


class Answer(Base):
    """One item's answer, in the column of its item's type.

    Likert and choice answers are whole numbers in `value`; a Likert answer with no value
    at all means "does not apply" (missing, not a midpoint). Number answers are in
    `value_number`, free text in `value_text`. An item not answered has no row.
    """

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("response_id", "item_id"),)

    id: Mapped[intpk]
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    item_id: Mapped[str40]
    value: Mapped[int | None]
    value_number: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    response: Mapped[Response] = relationship(back_populates="answers")

    @property
    def stored(self) -> int | float | str | None:
        """The answer whatever its type: text, number, whole number, or None (does not apply)."""
        return self.from_columns(self.value, self.value_number, self.value_text)

    @staticmethod
    def from_columns(
        value: int | None, value_number: float | None, value_text: str | None
    ) -> int | float | str | None:
        """The answer held in the three columns (also for a row read without the ORM)."""
        if value_text is not None:
            return value_text
        if value_number is not None:
            return value_number
        return value

    def store(self, value: int | float | str | None) -> None:
        """Put `value` in the column of its kind (str: text, float: number, int or None: value)."""
        self.value = value if isinstance(value, int) and not isinstance(value, bool) else None
        self.value_number = value if isinstance(value, float) else None
        self.value_text = value if isinstance(value, str) else None


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
