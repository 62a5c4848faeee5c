"""Trusts and their teams."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base
from survey.models._types import intpk, str40, str200


class Organisation(Base):
    """An NHS trust (or other provider) taking part."""

    __tablename__ = "organisation"

    id: Mapped[intpk]
    code: Mapped[str40] = mapped_column(unique=True)
    name: Mapped[str200]

    teams: Mapped[list[Team]] = relationship(back_populates="organisation", order_by="Team.name")

    def __repr__(self) -> str:
        return f"<Organisation {self.code}>"


class Team(Base):
    """A service team within a trust."""

    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[intpk]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    code: Mapped[str40] = mapped_column(unique=True)
    name: Mapped[str200]
    service_type: Mapped[str] = mapped_column(String(80), default="")

    organisation: Mapped[Organisation] = relationship(back_populates="teams")

    def __repr__(self) -> str:
        return f"<Team {self.code}>"
