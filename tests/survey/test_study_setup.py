"""Studies from YAML files: every mistake named by line and field; loading is all or nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import session_scope
from survey.services import schedule
from survey.services.errors import InputError
from survey.services.study_setup import apply_study, read_study_file
from tests import factories as f

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "study.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_file_is_valid() -> None:
    spec, problems = read_study_file(EXAMPLE)
    assert problems == []
    assert spec is not None and spec.code == "pulse-2027"
    assert [w.offset_days for w in spec.waves] == [0, 91, 182, 365]
    assert {role for role, _, _ in spec.instruments} == set(m.Role)


def test_every_mistake_is_reported_with_line_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, """\
code: Bad Code
name: A study
timezone: Europe/Londn
sending: {hours: [17, 9]}
instruments:
  peer_worker: colleague@1
  colleague: colleague@9
waves:
  - {index: 1, label: Baseline, offset_days: 0, reminders: [7, 3]}
  - {index: 3, label: Later, offset_days: 90, fixed_date: 2027-01-01}
  - {index: 3, label: Last, offset_days: 180, window_days: 500, colour: red}
""")
    spec, problems = read_study_file(path)
    assert spec is None
    text = [str(p) for p in problems]
    expected = [
        ("study.yaml:1", "code", "not a valid code"),
        ("study.yaml:3", "timezone", "unknown time zone 'Europe/Londn'"),
        ("study.yaml:4", "hours", "0 <= start < end <= 24"),
        ("study.yaml:6", "peer_worker", "written for colleagues, not peer_workers"),
        ("study.yaml:7", "colleague", "cannot use colleague@9"),
        ("study.yaml:6", "manager", "id@version"),
        ("study.yaml:9", "reminders", "increasing days"),
        ("study.yaml:10", "index", "expected 2, got 3"),
        ("study.yaml:10", "offset_days", "either offset_days"),
        ("study.yaml:11", "window_days", "from 1 to 120"),
        ("study.yaml:11", "colour", "unknown field"),
    ]
    for where, field, message in expected:
        assert any(t.startswith(where) and field in t and message in t for t in text), (where, field, text)


def test_not_yaml_is_a_plain_problem(tmp_path: Path) -> None:
    spec, problems = read_study_file(_write(tmp_path, "code: [unclosed\n"))
    assert spec is None and "not valid YAML" in str(problems[0])


def test_load_creates_then_updates_without_duplicates(db: Session, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["studies", "load", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["studies", "load", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    study = db.scalars(select(m.Study)).one()
    assert [w.label for w in study.waves] == ["Baseline", "3 months", "6 months", "12 months"]
    assert study.waves[3].reminder_offsets == [4, 10]
    assert study.instrument_for(m.Role.MANAGER).instrument_id == "colleague"
    assert db.scalar(select(func.count(m.StudyInstrument.id))) == 3


def test_bad_file_changes_nothing_and_exits_1(db: Session, runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = _write(tmp_path, EXAMPLE.read_text().replace("window_days: 28", "window_days: 0"))
    result = runner.invoke(args=["studies", "load", str(path)])
    assert result.exit_code == 1
    assert "window_days" in result.output and "nothing was changed" in result.output
    assert db.scalar(select(func.count(m.Study.id))) == 0


def test_a_wave_with_invitations_keeps_its_timing(db: Session, tmp_path: Path) -> None:
    spec, _ = read_study_file(EXAMPLE)
    assert spec is not None
    study = apply_study(db, spec)
    f.InvitationFactory(wave=study.waves[0], participant=f.ParticipantFactory(study=study))
    db.commit()
    moved, _ = read_study_file(_write(tmp_path, EXAMPLE.read_text().replace(
        "label: Baseline, offset_days: 0", "label: Baseline, offset_days: 7")))
    assert moved is not None
    with pytest.raises(InputError, match=r"wave 1 \(Baseline\) already has invitations"):
        apply_study(db, moved)
    db.rollback()
    assert db.scalars(select(m.Wave.offset_days).where(m.Wave.index == 1)).one() == 0
    # Renaming it and adding reminders is fine; so is adding a wave.
    relabelled, _ = read_study_file(_write(tmp_path, EXAMPLE.read_text().replace(
        "label: Baseline,", "label: Start,")))
    assert relabelled is not None
    apply_study(db, relabelled)
    db.commit()
    assert db.scalars(select(m.Wave.label).where(m.Wave.index == 1)).one() == "Start"


def test_fixed_date_waves(tmp_path: Path) -> None:
    spec, problems = read_study_file(_write(tmp_path, EXAMPLE.read_text().replace(
        "offset_days: 365,", "fixed_date: 2028-03-01,")))
    assert problems == []
    assert spec is not None and spec.waves[3].fixed_date == dt.date(2028, 3, 1)


def test_a_file_without_a_time_zone_gets_peerpulse_timezone(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app(TIMEZONE="America/New_York")
    without = "\n".join(line for line in EXAMPLE.read_text().splitlines()
                        if not line.startswith("timezone:"))
    result = app.test_cli_runner().invoke(args=["studies", "load", str(_write(tmp_path, without))])
    assert result.exit_code == 0, result.output
    with session_scope(app) as db:
        assert db.scalars(select(m.Study.timezone)).one() == "America/New_York"
        # A study's opening times follow its own zone: 09:00 in New York is 14:00 UTC in winter.
        wave = db.scalars(select(m.Wave).where(m.Wave.index == 1)).one()
        study = db.scalars(select(m.Study)).one()
        opens, _ = schedule.window(schedule.SendingRules.for_study(study), wave, dt.date(2027, 1, 4))
        assert opens == dt.datetime(2027, 1, 4, 14, tzinfo=dt.UTC)
