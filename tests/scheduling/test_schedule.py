"""Pure date logic: opening and closing instants, sending hours, reminders, clock changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey import models as m
from survey.services import schedule
from survey.services.errors import InputError

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
RULES = schedule.SendingRules(LONDON, 9, 17, True)


def wave(offset: int | None = 0, fixed: dt.date | None = None, window: int = 21) -> m.Wave:
    return m.Wave(index=1, label="Baseline", offset_days=offset, fixed_date=fixed,
                  window_days=window, reminder_offsets=[3, 7])


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_opening_is_nine_local_in_winter_and_in_summer() -> None:
    winter = schedule.window(RULES, wave(0), dt.date(2026, 1, 5))  # Monday, GMT
    summer = schedule.window(RULES, wave(0), dt.date(2026, 6, 1))  # Monday, BST
    assert winter[0] == utc(2026, 1, 5, 9)
    assert summer[0] == utc(2026, 6, 1, 8)
    assert summer[0].astimezone(LONDON).hour == 9


def test_offset_and_fixed_date_waves() -> None:
    assert schedule.window(RULES, wave(90), dt.date(2026, 1, 5))[0] == utc(2026, 4, 6, 8)
    fixed = wave(None, fixed=dt.date(2026, 2, 2))
    assert schedule.window(RULES, fixed, dt.date(2020, 1, 1))[0] == utc(2026, 2, 2, 9)
    with pytest.raises(InputError, match="neither an offset nor a fixed date"):
        schedule.window(RULES, wave(None), dt.date(2026, 1, 5))


def test_window_across_spring_clock_change_keeps_local_time() -> None:
    # Last Sunday of March 2026 is the 29th: clocks go forward, the window is an hour shorter.
    opens, closes = schedule.window(RULES, wave(0, window=7), dt.date(2026, 3, 27))
    assert opens == utc(2026, 3, 27, 9)
    assert closes == utc(2026, 4, 3, 8)
    assert closes.astimezone(LONDON).hour == 9
    assert closes - opens == dt.timedelta(days=7, hours=-1)


def test_window_across_autumn_clock_change_keeps_local_time() -> None:
    # Last Sunday of October 2026 is the 25th: clocks go back, the window is an hour longer.
    opens, closes = schedule.window(RULES, wave(0, window=7), dt.date(2026, 10, 23))
    assert opens == utc(2026, 10, 23, 8)
    assert closes == utc(2026, 10, 30, 9)
    assert closes - opens == dt.timedelta(days=7, hours=1)


def test_opening_on_the_clock_change_sunday_moves_to_monday_in_summer_time() -> None:
    opens, _ = schedule.window(RULES, wave(0), dt.date(2026, 3, 29))
    assert opens == utc(2026, 3, 30, 8)  # Monday 09:00 BST


def test_weekends_are_skipped_unless_allowed() -> None:
    saturday = dt.date(2026, 1, 10)
    assert schedule.window(RULES, wave(0), saturday)[0] == utc(2026, 1, 12, 9)
    every_day = schedule.SendingRules(LONDON, 9, 17, weekdays_only=False)
    assert schedule.window(every_day, wave(0), saturday)[0] == utc(2026, 1, 10, 9)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (utc(2026, 1, 9, 17, 30), utc(2026, 1, 12, 9)),  # Friday evening -> Monday
        (utc(2026, 1, 6, 7, 0), utc(2026, 1, 6, 9)),  # early -> same day
        (utc(2026, 1, 6, 12, 15), utc(2026, 1, 6, 12, 15)),  # allowed -> unchanged
        (utc(2026, 1, 6, 16, 59), utc(2026, 1, 6, 16, 59)),
        (utc(2026, 1, 6, 17, 0), utc(2026, 1, 7, 9)),  # the end hour is excluded
        (utc(2026, 3, 28, 12, 0), utc(2026, 3, 30, 8)),  # Saturday before spring change
        (utc(2026, 10, 24, 12, 0), utc(2026, 10, 26, 9)),  # Saturday before autumn change
    ],
)
def test_next_allowed_slot(instant: dt.datetime, expected: dt.datetime) -> None:
    assert schedule.next_allowed(RULES, instant) == expected


def test_reminders_are_snapped_and_dropped_after_the_close() -> None:
    opened = utc(2026, 1, 8, 9)  # Thursday
    closes = utc(2026, 1, 29, 9)
    # +3 days is Sunday -> Monday 12th; +7 days is Thursday 15th; +30 is after the close.
    assert schedule.reminder_instants(RULES, opened, [3, 7, 30], closes) == [
        utc(2026, 1, 12, 9), utc(2026, 1, 15, 9),
    ]
    assert schedule.reminders_due(RULES, opened, [3, 7, 30], closes, utc(2026, 1, 12, 8, 59)) == 0
    assert schedule.reminders_due(RULES, opened, [3, 7, 30], closes, utc(2026, 1, 12, 9)) == 1
    assert schedule.reminders_due(RULES, opened, [3, 7, 30], closes, utc(2026, 2, 1)) == 2


def test_reminder_across_the_spring_change_goes_at_nine_summer_time() -> None:
    opened = utc(2026, 3, 26, 9)  # Thursday, GMT
    [first] = schedule.reminder_instants(RULES, opened, [3], utc(2026, 4, 16, 8))
    assert first == utc(2026, 3, 30, 8)  # Sunday the 29th snapped to Monday 09:00 BST


def test_other_zone_and_bad_settings() -> None:
    study = m.Study(code="ny", name="NY", timezone="America/New_York", send_hour_start=10,
                    send_hour_end=16, send_weekdays_only=True)
    rules = schedule.SendingRules.for_study(study)
    assert schedule.window(rules, wave(0), dt.date(2026, 1, 5))[0] == utc(2026, 1, 5, 15)
    with pytest.raises(InputError, match="unknown time zone 'Mars/Olympus'"):
        schedule.SendingRules.for_study(m.Study(code="x", name="x", timezone="Mars/Olympus",
                                                send_hour_start=9, send_hour_end=17,
                                                send_weekdays_only=True))
    with pytest.raises(InputError, match="sending hours 17–9"):
        schedule.SendingRules.for_study(m.Study(code="x", name="x", timezone="Europe/London",
                                                send_hour_start=17, send_hour_end=9,
                                                send_weekdays_only=True))


@given(
    anchor=st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 12, 31)),
    offset=st.integers(min_value=0, max_value=730),
    window_days=st.integers(min_value=1, max_value=60),
)
def test_every_opening_and_close_is_at_an_allowed_local_time(
    anchor: dt.date, offset: int, window_days: int
) -> None:
    opens, closes = schedule.window(RULES, wave(offset, window=window_days), anchor)
    local = opens.astimezone(LONDON)
    assert schedule.is_allowed(RULES, opens)
    assert (local.hour, local.minute) == (9, 0)
    assert local.date() >= anchor + dt.timedelta(days=offset)
    assert closes.astimezone(LONDON).time() == dt.time(9, 0)
    assert (closes.astimezone(LONDON).date() - local.date()).days == window_days
