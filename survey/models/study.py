"""Studies, their waves and the instrument each role answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.config import DEFAULT_TIMEZONE
from survey.db import Base, utcnow
from survey.models._types import Role, StudyStatus, enum_column, intpk, str40, str200


class Study(Base):
    """A longitudinal study: waves, instruments per role, a time zone and sending hours."""

    __tablename__ = "study"

    id: Mapped[intpk]
    code: Mapped[str40] = mapped_column(unique=True)
    name: Mapped[str200]
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    status: Mapped[StudyStatus] = mapped_column(
        enum_column(StudyStatus), default=StudyStatus.ACTIVE
    )
    # Local hours in which mail may go out, [start, end), and whether weekends are skipped.
    send_hour_start: Mapped[int] = mapped_column(default=9)
    send_hour_end: Mapped[int] = mapped_column(default=17)
    send_weekdays_only: Mapped[bool] = mapped_column(default=True)
    # Participants may see their own scores over time on the thank-you page.
    show_own_scores: Mapped[bool] = mapped_column(default=True)
    consent_version: Mapped[str] = mapped_column(String(20), default="1")
    # The language of participants enrolled without one (a code of instruments.languages).
    default_language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # Days after the study closes (its last answer window ends) after which contact details
    # and link tokens are deleted; None keeps them (see services/retention.py).
    retention_days: Mapped[int | None]
    # The study's support page: a list of {name, text: {language: words}, phone, url}, shown
    # from every respondent page (None: PeerPulse's default, Samaritans); see study_setup.
    support: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    waves: Mapped[list[Wave]] = relationship(back_populates="study", order_by="Wave.index")
    instruments: Mapped[list[StudyInstrument]] = relationship(back_populates="study")

    def instrument_for(self, role: Role) -> StudyInstrument | None:
        """The instrument this study gives to a role."""
        return next((si for si in self.instruments if si.role == role), None)


class StudyInstrument(Base):
    """Which instrument (id and version) a role answers in a study."""

    __tablename__ = "study_instrument"
    __table_args__ = (UniqueConstraint("study_id", "role"),)

    id: Mapped[intpk]
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    instrument_id: Mapped[str40]
    instrument_version: Mapped[int]

    study: Mapped[Study] = relationship(back_populates="instruments")


class Wave(Base):
    """One measurement occasion: an offset from the anchor date or a fixed date."""

    __tablename__ = "wave"
    __table_args__ = (UniqueConstraint("study_id", "index"),)

    id: Mapped[intpk]
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    index: Mapped[int]
    label: Mapped[str] = mapped_column(String(80))
    offset_days: Mapped[int | None]
    fixed_date: Mapped[dt.date | None]
    window_days: Mapped[int] = mapped_column(default=21)
    # Days after opening on which a reminder goes out, e.g. [3, 7].
    reminder_offsets: Mapped[list[int]] = mapped_column(JSON, default=list)

    study: Mapped[Study] = relationship(back_populates="waves")

    @hybrid_property
    def is_baseline(self) -> bool:
        """The first wave carries the baseline-only module; also a SQL expression."""
        return self.index == 1
