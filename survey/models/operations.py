"""Operations: a record of every scheduled job run, and the scheduler's heartbeat."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base
from survey.models._types import intpk, str40


class JobRun(Base):
    """One run of one job (by the scheduler or `flask dispatch --once`): when, outcome, counts."""

    __tablename__ = "job_run"
    __table_args__ = (Index("ix_job_run_job_started_at", "job", "started_at"),)

    id: Mapped[intpk]
    job: Mapped[str40]
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime]
    # "ok" or "failed"
    outcome: Mapped[str] = mapped_column(String(10))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The exception's type and message only (never a traceback with local values).
    error: Mapped[str | None] = mapped_column(Text)
    # Where it ran: "scheduler@host:pid" or "dispatch@host:pid".
    runner: Mapped[str] = mapped_column(String(200), default="")


class SchedulerHeartbeat(Base):
    """A running scheduler's sign of life, updated every few seconds (one row per process)."""

    __tablename__ = "scheduler_heartbeat"

    instance: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int]
    started_at: Mapped[dt.datetime]
    beat_at: Mapped[dt.datetime] = mapped_column(index=True)
