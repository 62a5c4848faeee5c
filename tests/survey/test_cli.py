"""Flask commands: create-admin, db check, demo (idempotent)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import session_scope
from survey.services.demo import load_demo
from tests.conftest import StaffLogin


def test_create_admin_then_sign_in(runner: FlaskCliRunner, app: Flask, db: Session) -> None:
    result = runner.invoke(args=["create-admin", "--email", "Lead@Example.org", "--password", "long enough pw!"])
    assert result.exit_code == 0, result.output
    user = db.scalars(select(m.User)).one()
    assert user.email == "lead@example.org" and user.role == m.StaffRole.ADMIN
    assert user.check_password("long enough pw!")
    client = app.test_client()
    client.post("/staff/login", data={"email": "lead@example.org", "password": "long enough pw!"})
    # An administrator sets up the second factor at the first sign-in, before anything else.
    assert client.get("/staff/").headers["Location"] == "/staff/account/two-factor"
    assert StaffLogin(client).enrol().status_code == 200
    assert client.get("/staff/").status_code == 200


def test_create_admin_rejects_short_password_and_writes_nothing(runner: FlaskCliRunner, db: Session) -> None:
    result = runner.invoke(args=["create-admin", "--email", "a@example.org", "--password", "short"])
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    assert db.scalar(select(func.count(m.User.id))) == 0


def test_monitor_needs_a_known_trust(runner: FlaskCliRunner, db: Session) -> None:
    result = runner.invoke(args=["create-admin", "--email", "m@example.org", "--password",
                                 "long enough pw!", "--role", "trust_monitor", "--trust", "NOPE"])
    assert result.exit_code != 0
    assert "no trust with code 'NOPE'" in result.output


def test_create_admin_twice_resets_password_and_reactivates(runner: FlaskCliRunner, db: Session) -> None:
    args = ["create-admin", "--email", "a@example.org", "--password"]
    assert runner.invoke(args=[*args, "first password 1"]).exit_code == 0
    user = db.scalars(select(m.User)).one()
    user.active = False
    db.commit()
    result = runner.invoke(args=[*args, "second password 2", "--role", "researcher"])
    assert result.exit_code == 0, result.output
    assert "Updated researcher a@example.org" in result.output
    db.expire_all()
    user = db.scalars(select(m.User)).one()
    assert user.active and user.role == m.StaffRole.RESEARCHER
    assert user.check_password("second password 2") and not user.check_password("first password 1")
    actions = db.scalars(select(m.AuditEvent.action).order_by(m.AuditEvent.id)).all()
    assert actions == ["user.create", "user.update", "user.reactivate", "user.password_reset"]


def test_db_check_passes_on_the_migrated_schema(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    assert "No differences" in result.output


def _counts(db: Session) -> dict[str, int]:
    return {model.__name__: db.scalar(select(func.count()).select_from(model)) or 0
            for model in (m.Organisation, m.Team, m.Participant, m.Contact, m.Study, m.Wave,
                          m.Invitation, m.Response, m.Answer, m.ScaleScore, m.User)}


def test_demo_is_realistic_and_loading_twice_duplicates_nothing(db: Session) -> None:
    today = dt.date(2026, 11, 26)
    first = load_demo(db, today=today)
    db.commit()
    counts = _counts(db)
    assert first.created
    assert counts["Organisation"] == 4 and counts["Team"] == 12 and counts["Wave"] == 4
    assert 140 <= counts["Participant"] <= 170 and counts["Contact"] == counts["Participant"]
    roles = dict(db.execute(select(m.Participant.role, func.count()).group_by(m.Participant.role)).all())
    assert set(roles) == {m.Role.PEER_WORKER, m.Role.COLLEAGUE, m.Role.MANAGER}
    # Three past waves answered by most, with missing waves, and the fourth open now.
    assert counts["Participant"] * 3 * 0.7 < counts["Response"] < counts["Participant"] * 3
    statuses = dict(db.execute(select(m.Invitation.status, func.count()).group_by(m.Invitation.status)).all())
    assert statuses[m.InvitationStatus.EXPIRED] > 0 and statuses[m.InvitationStatus.SENT] > 0
    assert counts["ScaleScore"] > counts["Response"] * 4
    assert len(first.links) == 4

    second = load_demo(db, today=today)
    db.commit()
    assert not second.created
    assert _counts(db) == counts
    # Only the printed links' tokens exist: old demo links were replaced, not piled up.
    assert db.scalar(select(func.count(m.LinkToken.id))) == 4


def test_demo_peer_workers_improve_on_equality(db: Session) -> None:
    load_demo(db, today=dt.date(2026, 11, 26))
    db.commit()
    rows = db.execute(
        select(m.Wave.index, func.avg(m.ScaleScore.score))
        .join(m.Response, m.ScaleScore.response_id == m.Response.id)
        .join(m.Invitation).join(m.Wave).join(m.Participant)
        .where(m.ScaleScore.scale == "equality", m.Participant.role == m.Role.PEER_WORKER)
        .group_by(m.Wave.index).order_by(m.Wave.index)
    ).all()
    means = [mean for _, mean in rows]
    assert len(means) == 3 and means[2] > means[0]


def test_demo_command_prints_logins_and_links(runner: FlaskCliRunner, demo_mode: Flask) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "admin@example.org" in result.output and "/r/" in result.output
    # The first thing it prints is the front door, which answers.
    first = result.output.splitlines()[0]
    assert first.startswith("Start at http") and "/ (what PeerPulse is" in first, first


def test_demo_command_refuses_outside_demo_mode(runner: FlaskCliRunner, db: Session) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code != 0
    assert "runs only in demo mode: set PEERPULSE_DEMO=1" in result.output
    assert db.scalars(select(m.User)).all() == [] and db.scalars(select(m.Study)).all() == []


def test_every_command_module_is_registered_in_one_place(app: Flask) -> None:
    import pkgutil

    import survey.commands as commands

    modules = {info.name for info in pkgutil.iter_modules(commands.__path__)}
    assert modules == {module.__name__.rsplit(".", 1)[1] for module in commands.GROUPS}
    names = {command.name for module in commands.GROUPS for command in module.COMMANDS}
    assert names == {"db", "create-admin", "demo", "studies", "participants", "scheduler",
                     "dispatch", "instruments", "retention", "bounces"}
    assert names <= set(app.cli.list_commands(None))  # type: ignore[arg-type]


def test_demo_uses_the_apps_base_url_and_default_time_zone(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASE_URL", "http://from-the-environment.example")
    app = make_app(BASE_URL="https://pulse.example.org", TIMEZONE="Pacific/Auckland", DEMO=True)
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    links = [line for line in result.output.splitlines() if "/r/" in line]
    assert links and all("https://pulse.example.org/r/" in line for line in links)
    assert "from-the-environment" not in result.output
    with session_scope(app) as db:
        assert db.scalars(select(m.Study.timezone).where(m.Study.code == "demo")).one() == (
            "Pacific/Auckland")
