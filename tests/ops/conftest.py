"""Fixtures for operations tests."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from survey import models as m
from survey.db import utcnow
from tests.scheduling.conftest import make_study


def open_today(n: int, **kwargs: object) -> tuple[m.Study, list[m.Participant]]:
    """A study whose first wave opens today and that may send at any hour (real clock)."""
    today = utcnow().astimezone(ZoneInfo("Europe/London")).date()
    study, people = make_study(n, anchor=today, send_hour_start=0, send_hour_end=24,
                               send_weekdays_only=False, **kwargs)
    return study, people
