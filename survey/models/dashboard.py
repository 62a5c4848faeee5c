"""Published dashboard figures: a wave's frozen snapshot for one trust (the publication rule)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base
from survey.models._types import intpk

#: The `view` of the trust-wide snapshot; a team's view is its team id.
TRUST_VIEW = 0


class DashboardSnapshot(Base):
    """One wave's figures for one trust (view 0) or one of its teams, frozen when published.

    The dashboard, its CSV and the API show a wave only from these rows, so every read gives the
    same figures and a late answer changes nothing (services/dashboard_publication.py).
    """

    __tablename__ = "dashboard_snapshot"
    __table_args__ = (UniqueConstraint("wave_id", "organisation_id", "view"),)

    id: Mapped[intpk]
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    view: Mapped[int]
    published_at: Mapped[dt.datetime]
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
