"""Pure date logic: when a wave opens and closes for a participant, and when reminders go out.

Every instant is computed as a local wall-clock time in the study's time zone and converted
to UTC with zoneinfo, so "09:00" stays 09:00 in London on both sides of a clock change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from survey.models import Study, Wave
from survey.services.errors import InputError

MAX_SEARCH_DAYS = 8  # a week always holds an allowed slot when weekdays are allowed


@dataclass(frozen=True)
class SendingRules:
    """Where and when mail may go out: the study's zone, local hours [start, end), weekdays."""

    zone: ZoneInfo
    hour_start: int = 9
    hour_end: int = 17
    weekdays_only: bool = True

    @classmethod
    def for_study(cls, study: Study) -> SendingRules:
        """The rules a study's settings describe."""
        try:
            zone = ZoneInfo(study.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InputError(
                {"timezone": f"study {study.code}: unknown time zone '{study.timezone}'"}) from exc
        rules = cls(zone, study.send_hour_start, study.send_hour_end, study.send_weekdays_only)
        if not 0 <= rules.hour_start < rules.hour_end <= 24:
            raise InputError({"sending": (
                f"study {study.code}: sending hours {rules.hour_start}–{rules.hour_end} "
                "must satisfy 0 <= start < end <= 24")})
        return rules


def local_instant(zone: ZoneInfo, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """The UTC instant of a local wall-clock time; a time skipped by the clocks moves forward."""
    wall = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    # In the spring gap the wall time does not exist; zoneinfo resolves it with the old
    # offset, which lands after the gap: the first real instant at or after that wall time.
    return wall.astimezone(dt.UTC)


def _allowed_day(rules: SendingRules, day: dt.date) -> bool:
    return not (rules.weekdays_only and day.weekday() >= 5)


def is_allowed(rules: SendingRules, instant: dt.datetime) -> bool:
    """Whether mail may go out at this instant (local hours and weekdays)."""
    local = instant.astimezone(rules.zone)
    return _allowed_day(rules, local.date()) and rules.hour_start <= local.hour < rules.hour_end


def next_allowed(rules: SendingRules, instant: dt.datetime) -> dt.datetime:
    """The instant itself if mail may go out then, else the start of the next allowed slot (UTC)."""
    if instant.tzinfo is None:
        raise ValueError("next_allowed needs an aware datetime")
    if is_allowed(rules, instant):
        return instant.astimezone(dt.UTC)
    local = instant.astimezone(rules.zone)
    day = local.date()
    if local.hour >= rules.hour_end or not _allowed_day(rules, day):
        day += dt.timedelta(days=1)  # else: later the same day
    for _ in range(MAX_SEARCH_DAYS):
        if _allowed_day(rules, day):
            return local_instant(rules.zone, day, rules.hour_start)
        day += dt.timedelta(days=1)
    raise InputError({"sending": "no allowed sending slot within a week"})  # pragma: no cover


def wave_date(wave: Wave, anchor: dt.date) -> dt.date:
    """The local calendar date a wave opens for a participant with this anchor date."""
    if wave.fixed_date is not None:
        return wave.fixed_date
    if wave.offset_days is None:
        raise InputError({"waves": f"wave {wave.index} has neither an offset nor a fixed date"})
    return anchor + dt.timedelta(days=wave.offset_days)


def add_local_days(rules: SendingRules, instant: dt.datetime, days: int) -> dt.datetime:
    """The same local wall-clock time `days` calendar days later (23 or 25 hours across a change)."""
    local = instant.astimezone(rules.zone)
    later = local.date() + dt.timedelta(days=days)
    return local_instant(rules.zone, later, local.hour, local.minute)


def window(rules: SendingRules, wave: Wave, anchor: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """(opens_at, closes_at) in UTC: opening at the first allowed slot of the wave's date."""
    opens_at = next_allowed(rules, local_instant(rules.zone, wave_date(wave, anchor), rules.hour_start))
    return opens_at, add_local_days(rules, opens_at, wave.window_days)


def reminder_instants(
    rules: SendingRules, opened_at: dt.datetime, offsets: list[int], closes_at: dt.datetime
) -> list[dt.datetime]:
    """When each reminder is due: opening date + offset at the start of sending hours, snapped.

    Reminders that would fall at or after the close of the window are dropped.
    """
    opened_day = opened_at.astimezone(rules.zone).date()
    due: list[dt.datetime] = []
    for offset in sorted(offsets):
        day = opened_day + dt.timedelta(days=offset)
        instant = next_allowed(rules, local_instant(rules.zone, day, rules.hour_start))
        if instant < closes_at:
            due.append(instant)
    return due


def reminders_due(
    rules: SendingRules,
    opened_at: dt.datetime,
    offsets: list[int],
    closes_at: dt.datetime,
    now: dt.datetime,
) -> int:
    """How many of the reminders are due by `now` (0 .. len(offsets))."""
    return sum(1 for at in reminder_instants(rules, opened_at, offsets, closes_at) if at <= now)
