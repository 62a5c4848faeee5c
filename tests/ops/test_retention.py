"""Retention: after close + retention_days, contact details and links go; answers stay."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instruments import load_instrument
from survey import models as m
from survey import scheduler as sched
from survey.db import utcnow
from survey.services.exports import build_export
from survey.services.retention import apply_retention
from survey.services.study_setup import read_study_file
from tests.respondent.conftest import PersonalLink, make_link, post_form, see_committed

PEER = load_instrument("peer_worker", 1)
DAY = dt.timedelta(days=1)


def count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def answer_everything(app: Flask, link: PersonalLink) -> None:
    client = app.test_client()
    pages = PEER.pages(first_wave=True)
    for number, page in enumerate(pages, start=1):
        response = post_form(client, f"{link.url}/page/{number}", {page.items[0].id: "4"})
        assert response.status_code == 303


def closed_study(app: Flask, db: Session, days_ago: int, retention_days: int | None) -> PersonalLink:
    """A completed first wave whose window closed days_ago, with two emails in the outbox."""
    link = make_link(db)
    answer_everything(app, link)
    see_committed(db)
    invitation = db.get(m.Invitation, link.invitation.id)
    assert invitation is not None
    invitation.closes_at = utcnow() - days_ago * DAY
    invitation.participant.study.retention_days = retention_days
    db.add_all([
        m.OutboxMessage(dedupe_key=f"invite:{invitation.id}", kind="invite",
                        invitation_id=invitation.id, recipient="ann@example.org", subject="s",
                        body_text=f"http://localhost{link.url}", status=m.OutboxStatus.SENT),
        m.OutboxMessage(dedupe_key=f"remind:{invitation.id}", kind="remind",
                        invitation_id=invitation.id, recipient="ann@example.org", subject="s",
                        body_text=f"http://localhost{link.url}", status=m.OutboxStatus.PENDING),
    ])
    db.commit()
    return link


def test_dry_run_then_execute(app: Flask, db: Session, runner: FlaskCliRunner) -> None:
    link = closed_study(app, db, days_ago=40, retention_days=30)
    code = link.invitation.participant.study.code
    answers, scores = count(db, m.Answer), count(db, m.ScaleScore)
    assert answers > 0 and scores == len(PEER.scales)

    dry = runner.invoke(args=["retention", "apply"])
    assert dry.exit_code == 0, dry.output
    assert f"would delete (dry run; add --execute to delete): {code}: closed " in dry.output
    assert ("1 contact details, 1 link tokens, 1 pending emails cancelled, "
            "2 stored emails blanked") in dry.output
    see_committed(db)
    assert count(db, m.Contact) == 1 and count(db, m.LinkToken) == 1

    done = runner.invoke(args=["retention", "apply", "--execute"])
    assert done.exit_code == 0 and f"deleted: {code}:" in done.output
    see_committed(db)
    assert count(db, m.Contact) == 0 and count(db, m.LinkToken) == 0
    assert (count(db, m.Answer), count(db, m.ScaleScore)) == (answers, scores)
    assert count(db, m.Participant) == 1 and count(db, m.Response) == 1
    messages = {msg.kind: msg for msg in db.scalars(select(m.OutboxMessage))}
    assert messages["remind"].status == m.OutboxStatus.CANCELLED
    assert messages["invite"].status == m.OutboxStatus.SENT
    assert {(msg.recipient, msg.body_text) for msg in messages.values()} == {("", "")}
    # The link now shows the plain invalid-link page.
    response = app.test_client().get(link.url)
    assert response.status_code == 404
    # Audited, without any contact content.
    event = db.scalar(select(m.AuditEvent).where(m.AuditEvent.action == "retention.apply"))
    assert event is not None and event.target_id == code and event.actor == "system"
    assert event.detail["contacts_deleted"] == 1 and "ann@example.org" not in str(event.detail)
    # The pseudonymous export still works and still holds the scores.
    study = db.scalar(select(m.Study).where(m.Study.code == code))
    assert study is not None
    archive = zipfile.ZipFile(io.BytesIO(build_export(db, study, None)))
    assert archive.namelist() and "ann@example.org" not in str(
        [archive.read(name) for name in archive.namelist()])
    # Nothing more to do: a second run changes and audits nothing.
    again = runner.invoke(args=["retention", "apply", "--execute"])
    assert "0 contact details, 0 link tokens" in again.output
    see_committed(db)
    retention_events = select(func.count()).select_from(m.AuditEvent).where(
        m.AuditEvent.action == "retention.apply")
    assert db.scalar(retention_events) == 1


def test_not_before_the_period_ends_and_not_without_one(app: Flask, db: Session) -> None:
    closed_study(app, db, days_ago=20, retention_days=30)
    other = closed_study(app, db, days_ago=400, retention_days=None)
    assert apply_retention(db, utcnow(), dry_run=False) == []
    assert count(db, m.Contact) == 2
    assert other.invitation.participant.contact is not None


def test_an_open_study_is_not_closed(app: Flask, db: Session) -> None:
    link = make_link(db)
    link.invitation.participant.study.retention_days = 0
    db.commit()
    assert apply_retention(db, utcnow(), dry_run=False) == []
    assert app.test_client().get(link.url).status_code in (200, 303)


def test_the_daily_scheduler_job_executes(app: Flask, db: Session) -> None:
    closed_study(app, db, days_ago=40, retention_days=30)
    assert sched.run_recorded(app, "retention", "test") == 1
    see_committed(db)
    assert count(db, m.Contact) == 0
    run = db.scalar(select(m.JobRun).where(m.JobRun.job == "retention"))
    assert run is not None and run.outcome == "ok" and run.counts == {"count": 1}


def test_retention_days_in_the_study_file(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "study.yaml"
    spec, problems = read_study_file(example)
    assert problems == [] and spec is not None and spec.retention_days == 365
    bad = tmp_path / "study.yaml"
    bad.write_text(example.read_text().replace("retention_days: 365", "retention_days: -3"))
    spec, problems = read_study_file(bad)
    assert spec is None
    assert [(p.field, p.message) for p in problems] == [("retention_days", "must be 0 or more days, got -3")]
    assert str(problems[0]).startswith("study.yaml:")
