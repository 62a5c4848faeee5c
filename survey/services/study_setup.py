"""Setting up a study from a YAML file: waves, instruments per role, time zone, sending hours.

A study is data a researcher can review: `flask --app wsgi studies load FILE` checks the file
(every problem with its line and field) and then creates or updates the study in one
transaction. A wave that already has invitations cannot be moved or removed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import zoneinfo
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instruments import InstrumentError, Problem, load_instrument
from instruments.fields import FieldReader
from instruments.languages import LANGUAGES, SOURCE_LANGUAGE
from instruments.source import SourceMap, read_yaml
from survey.config import DEFAULT_TIMEZONE
from survey.models import Invitation, Role, Study, StudyInstrument, Wave
from survey.services.errors import InputError
from survey.services.errors import Problem as InputProblem
from survey.services.instrument_versions import CONSENT_DIR
from survey.services.support import read_support

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
STUDY_FIELDS = ("code", "name", "timezone", "sending", "show_own_scores", "consent_version",
                "retention_days", "instruments", "waves", "default_language", "support")
WAVE_FIELDS = ("index", "label", "offset_days", "fixed_date", "window_days", "reminders")


@dataclasses.dataclass(frozen=True)
class WaveSpec:
    """One wave as the file gives it."""

    index: int
    label: str
    offset_days: int | None
    fixed_date: dt.date | None
    window_days: int
    reminders: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class StudySpec:
    """A whole study as the file gives it."""

    code: str
    name: str
    timezone: str = DEFAULT_TIMEZONE
    send_hours: tuple[int, int] = (9, 17)
    weekdays_only: bool = True
    show_own_scores: bool = True
    consent_version: str = "1"
    instruments: tuple[tuple[Role, str, int], ...] = ()
    waves: tuple[WaveSpec, ...] = ()
    retention_days: int | None = None
    default_language: str = SOURCE_LANGUAGE
    #: The study's support contacts (survey.services.support); None: PeerPulse's default.
    support: tuple[dict[str, Any], ...] | None = None


def read_study_file(
    path: Path, default_timezone: str = DEFAULT_TIMEZONE
) -> tuple[StudySpec | None, list[Problem]]:
    """Parse and check a study file; the spec is None when anything is wrong.

    A file without a time zone gets `default_timezone` (the app's PEERPULSE_TIMEZONE).
    """
    display = path.name
    data, problems = read_yaml(path, display)
    if problems:
        return None, problems
    reader = FieldReader(display)
    root = reader.mapping(data, 1, None, "the study file")
    if root is None:
        return None, reader.problems
    reader.check_keys(root, STUDY_FIELDS, None)
    code = reader.text(root, "code", None)
    if code is not None and not CODE_PATTERN.match(code):
        reader.add(root.line_of("code"), None, "code",
                   f"{code!r} is not a valid code (2-40 lower case letters, digits and -)")
    name = reader.text(root, "name", None)
    timezone = reader.text(root, "timezone", None, required=False) or default_timezone
    if timezone not in zoneinfo.available_timezones():
        reader.add(root.line_of("timezone"), None, "timezone",
                   f"unknown time zone {timezone!r} (use an IANA name such as Europe/London)")
    hours, weekdays_only = _sending(reader, root)
    show = reader.flag(root, "show_own_scores", None, required=False)
    consent = str(root.get("consent_version", "1"))
    if not (CONSENT_DIR / f"v{consent}.html").is_file():
        reader.add(root.line_of("consent_version"), None, "consent_version",
                   f"there is no consent text v{consent}.html in survey/templates/respondent/consent/")
    retention = _retention_days(reader, root)
    instruments = _instruments(reader, root)
    language = _default_language(reader, root, instruments)
    waves = _waves(reader, root)
    support = read_support(reader, root)
    if reader.problems or code is None or name is None:
        return None, reader.problems
    return StudySpec(code, name, timezone, hours, weekdays_only,
                     True if show is None else show, consent, instruments, waves, retention,
                     language, None if support is None else tuple(support)), []


def _default_language(reader: FieldReader, root: SourceMap,
                      instruments: tuple[tuple[Role, str, int], ...]) -> str:
    """The language of participants enrolled without one: supported, and in every instrument."""
    language = reader.text(root, "default_language", None, required=False) or SOURCE_LANGUAGE
    if language not in LANGUAGES:
        reader.add(root.line_of("default_language"), None, "default_language",
                   f"unknown language {language!r}; use one of {', '.join(LANGUAGES)}")
        return SOURCE_LANGUAGE
    for _role, instrument_id, version in instruments:
        try:
            instrument = load_instrument(instrument_id, version)
        except InstrumentError:
            continue  # reported by _instruments
        if language not in instrument.languages:
            reader.add(root.line_of("default_language"), None, "default_language",
                       f"{instrument.key} has no {language!r} texts (it declares "
                       f"{', '.join(instrument.languages)}); choose another instrument version")
    return language


def _retention_days(reader: FieldReader, root: SourceMap) -> int | None:
    """Days after the study closes until contact details and links are deleted (None: keep)."""
    if root.get("retention_days") is None:
        return None
    days = reader.integer(root, "retention_days", None)
    if days is not None and days < 0:
        reader.add(root.line_of("retention_days"), None, "retention_days",
                   f"must be 0 or more days, got {days}")
        return None
    return days


def _sending(reader: FieldReader, root: SourceMap) -> tuple[tuple[int, int], bool]:
    """Local sending hours [start, end) and whether weekends are skipped."""
    sending = root.get("sending")
    if sending is None:
        return (9, 17), True
    block = reader.mapping(sending, root.line_of("sending"), None, "sending")
    if block is None:
        return (9, 17), True
    reader.check_keys(block, ("hours", "weekdays_only"), "sending")
    hours = block.get("hours", [9, 17])
    ok = (isinstance(hours, list) and len(hours) == 2
          and all(isinstance(h, int) and not isinstance(h, bool) for h in hours)
          and 0 <= hours[0] < hours[1] <= 24)
    if not ok:
        reader.add(block.line_of("hours"), "sending", "hours",
                   f"must be [start, end] local hours with 0 <= start < end <= 24, got {hours!r}")
        hours = [9, 17]
    weekdays = reader.flag(block, "weekdays_only", "sending", required=False)
    return (hours[0], hours[1]), True if weekdays is None else weekdays


def _instruments(reader: FieldReader, root: SourceMap) -> tuple[tuple[Role, str, int], ...]:
    """Which instrument each role answers: `role: id@version`; every role needs one."""
    block = reader.mapping(root.get("instruments"), root.line_of("instruments"), None, "instruments")
    if block is None:
        return ()
    reader.check_keys(block, tuple(r.value for r in Role), "instruments")
    chosen = []
    for role in Role:
        value = block.get(role.value)
        line = block.line_of(role.value)
        match = re.fullmatch(r"([a-z][a-z0-9_]*)@(\d+)", str(value)) if value else None
        if match is None:
            reader.add(line, "instruments", role.value,
                       f"give the instrument as id@version, e.g. {role.audience}@1, got {value!r}")
            continue
        instrument_id, version = match.group(1), int(match.group(2))
        try:
            instrument = load_instrument(instrument_id, version)
        except InstrumentError as exc:
            reader.add(line, "instruments", role.value, f"cannot use {value}: {exc}")
            continue
        if instrument.audience != role.audience:
            reader.add(line, "instruments", role.value,
                       f"{value} is written for {instrument.audience}s, not {role.value}s")
            continue
        chosen.append((role, instrument_id, version))
    return tuple(chosen)


def _waves(reader: FieldReader, root: SourceMap) -> tuple[WaveSpec, ...]:
    """The waves, numbered 1, 2, 3 ... in order."""
    waves = []
    for position, raw in enumerate(reader.sequence(root, "waves", None), start=1):
        wave = reader.mapping(raw, root.line_of("waves"), f"wave {position}", "a wave")
        if wave is None:
            continue
        label = f"wave {position}"
        reader.check_keys(wave, WAVE_FIELDS, label)
        index = reader.integer(wave, "index", label)
        if index is not None and index != position:
            reader.add(wave.line_of("index"), label, "index",
                       f"waves must be numbered 1, 2, 3 ... in order; expected {position}, got {index}")
        name = reader.text(wave, "label", label)
        offset, fixed = wave.get("offset_days"), wave.get("fixed_date")
        if (offset is None) == (fixed is None):
            reader.add(wave.line, label, "offset_days",
                       "give either offset_days (from each participant's anchor date) or fixed_date")
        elif offset is not None and (isinstance(offset, bool) or not isinstance(offset, int) or offset < 0):
            reader.add(wave.line_of("offset_days"), label, "offset_days",
                       f"must be a whole number of days, 0 or more, got {offset!r}")
        elif fixed is not None and not isinstance(fixed, dt.date):
            reader.add(wave.line_of("fixed_date"), label, "fixed_date",
                       f"must be a date as YYYY-MM-DD, got {fixed!r}")
        window = wave.get("window_days", 21)
        if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= 120:
            reader.add(wave.line_of("window_days"), label, "window_days",
                       f"must be a whole number of days from 1 to 120, got {window!r}")
            window = 21
        reminders = wave.get("reminders", [])
        valid = (isinstance(reminders, list)
                 and all(isinstance(r, int) and not isinstance(r, bool) and 0 < r < window
                         for r in reminders)
                 and reminders == sorted(set(reminders)))
        if not valid:
            reader.add(wave.line_of("reminders"), label, "reminders",
                       f"must be increasing days after opening, each within the {window}-day "
                       f"window, e.g. [3, 7]; got {reminders!r}")
            reminders = []
        if index is not None and name is not None:
            waves.append(WaveSpec(index, name, offset if isinstance(offset, int) else None,
                                  fixed if isinstance(fixed, dt.date) else None, window,
                                  tuple(reminders)))
    return tuple(waves)


def apply_study(db: Session, spec: StudySpec) -> Study:
    """Create or update the study (flushed; the caller commits); InputError if a wave with
    invitations would move or go."""
    study = db.scalar(select(Study).where(Study.code == spec.code))
    if study is None:
        study = Study(code=spec.code, name=spec.name)
        db.add(study)
    study.name, study.timezone = spec.name, spec.timezone
    study.send_hour_start, study.send_hour_end = spec.send_hours
    study.send_weekdays_only, study.show_own_scores = spec.weekdays_only, spec.show_own_scores
    study.consent_version = spec.consent_version
    study.retention_days = spec.retention_days
    study.default_language = spec.default_language
    study.support = None if spec.support is None else [dict(c) for c in spec.support]
    current = {si.role: si for si in study.instruments}
    for role, instrument_id, version in spec.instruments:
        assignment = current.get(role) or StudyInstrument(study=study, role=role)
        assignment.instrument_id, assignment.instrument_version = instrument_id, version
        db.add(assignment)
    existing = {w.index: w for w in study.waves}
    for wave_spec in spec.waves:
        wave = existing.pop(wave_spec.index, None)
        if wave is not None and _invited(db, wave) and _timing(wave) != _timing_of(wave_spec):
            raise InputError([InputProblem(
                "waves", f"wave {wave.index} ({wave.label}) already has invitations, so its timing cannot "
                "change; add a new wave instead, or put the old timing back")])
        wave = wave or Wave(study=study, index=wave_spec.index)
        wave.label, wave.window_days = wave_spec.label, wave_spec.window_days
        wave.offset_days, wave.fixed_date = wave_spec.offset_days, wave_spec.fixed_date
        wave.reminder_offsets = list(wave_spec.reminders)
        db.add(wave)
    for wave in existing.values():
        if _invited(db, wave):
            raise InputError([InputProblem(
                "waves", f"wave {wave.index} ({wave.label}) has invitations and cannot be removed")])
        db.delete(wave)
    db.flush()
    return study


def _invited(db: Session, wave: Wave) -> bool:
    return bool(wave.id) and bool(
        db.scalar(select(func.count(Invitation.id)).where(Invitation.wave_id == wave.id)))


def _timing(wave: Wave) -> tuple[Any, ...]:
    return (wave.offset_days, wave.fixed_date, wave.window_days)


def _timing_of(spec: WaveSpec) -> tuple[Any, ...]:
    return (spec.offset_days, spec.fixed_date, spec.window_days)
