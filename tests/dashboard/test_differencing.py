"""The differencing attack of issue 19 replayed through the API, the CSV and the page: read, let
one more person answer, read again. No person's score, nor the team an answer came from, nor the
size of a withheld group can be worked out, because figures are published once, frozen, when a
wave's answers close (services/dashboard_publication.py), and counts are withheld like means."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import get_sessionmaker, utcnow
from survey.services.dashboard_publication import publish_due, publish_wave
from tests import factories as f
from tests.conftest import StaffLogin
from tests.helpers import completed_with_scores

MIN = 5


def _trust(db: Session) -> dict[str, Any]:
    """Trust DIF: teams A and B, six peer workers each, wave 1 open until next week."""
    org = f.OrganisationFactory(code="DIF", name="Differencing trust")
    study = f.StudyFactory()
    wave = f.WaveFactory(study=study, index=1, label="Baseline")
    teams = [f.TeamFactory(organisation=org, code=c, name=f"Team {c}") for c in ("A", "B")]
    people = {team.code: [f.ParticipantFactory(study=study, team=team) for _ in range(6)]
              for team in teams}
    for team, members in people.items():
        for i, person in enumerate(members[:5]):
            completed_with_scores(db, person, wave, {"equality": 2.0 + i * 0.3 + (team == "B")})
    open_invitations = [
        f.InvitationFactory(participant=members[5], wave=wave, status=m.InvitationStatus.SENT,
                            opens_at=utcnow() - dt.timedelta(days=14),
                            closes_at=utcnow() + dt.timedelta(days=7))
        for members in people.values()]
    user = f.UserFactory(role=m.StaffRole.TRUST_MONITOR, organisation=org)
    db.commit()
    return {"org": org, "study": study, "wave": wave, "open": open_invitations, "user": user}


def _answer(db: Session, invitation: m.Invitation, score: float) -> None:
    """One more person answers through their invitation."""
    response = m.Response(invitation=invitation, instrument_id="x", instrument_version=1,
                          instrument_hash="0" * 64, submitted_at=utcnow())
    response.scores = [m.ScaleScore(scale="equality", score=score, items_answered=5)]
    invitation.status, invitation.completed_at = m.InvitationStatus.COMPLETED, utcnow()
    db.add(response)
    db.commit()


def _read(client: FlaskClient, study: m.Study) -> tuple[dict[str, Any], str, str]:
    """The API's JSON, the CSV and the page's words, as a monitor reads them."""
    data = client.get(f"/api/v1/trusts/DIF/dashboard?study={study.code}")
    sheet = client.get(f"/dashboard/DIF/figures.csv?study={study.code}")
    page = client.get(f"/dashboard/DIF?study={study.code}")
    assert (data.status_code, sheet.status_code, page.status_code) == (200, 200, 200)
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", " ", page.get_data(as_text=True),
                                          flags=re.S))
    return data.get_json(), sheet.get_data(as_text=True), " ".join(html.unescape(text).split())


def _means(data: dict[str, Any]) -> list[float]:
    return [row["value"] for row in data["trends"] if row["value"] is not None]


def test_an_open_wave_shows_no_mean_no_count_and_no_team(
        db: Session, client: FlaskClient, auth: StaffLogin) -> None:
    trust = _trust(db)
    auth.login(trust["user"].email)
    publish_due(db, utcnow())
    db.commit()
    before = _read(client, trust["study"])
    _answer(db, trust["open"][0], 4.9)  # team A's sixth person; team B's is still open
    publish_due(db, utcnow())
    db.commit()
    after = _read(client, trust["study"])
    for data, sheet, page in (before, after):
        assert _means(data) == [] and data["published_at"] is None
        # No counts: neither the trust's nor any team's, so n2*m2 - n1*m1 has nothing to act on.
        assert data["response_rates"] == data["team_response_rates"] == []
        assert data["group_response_rates"] == []
        # The CSV: its header and the open wave's rounded rate, nothing else.
        lines = sheet.splitlines()
        assert len(lines) == 2 and lines[1].startswith('"response rate (%), wave still open",,,,Baseline,,')
        assert "4.9" not in page and "Baseline is still open" in page
    # 10 of 12, then 11 of 12: both about 80% and 90% to the nearest 10%, never a count.
    assert [o["response_rate_percent"] for o in before[0]["open_waves"]] == [80]
    assert [o["response_rate_percent"] for o in after[0]["open_waves"]] == [90]
    assert "A wave's figures are published once" in after[2]


def test_published_figures_do_not_move_when_a_late_answer_arrives(
        db: Session, client: FlaskClient, auth: StaffLogin) -> None:
    trust = _trust(db)
    auth.login(trust["user"].email)
    for invitation in trust["open"]:  # the window ends; the expiry step closes both
        invitation.status = m.InvitationStatus.EXPIRED
    db.commit()
    assert publish_due(db, utcnow()) == 1
    db.commit()
    first = _read(client, trust["study"])
    assert first[0]["published_at"] is not None and _means(first[0])
    # Means at the page's precision (1 decimal place), nothing finer.
    assert all(round(v, 1) == v for v in _means(first[0]))
    # A late answer through the expired invitation, then another publication pass.
    _answer(db, trust["open"][0], 4.9)
    assert publish_due(db, utcnow()) == 0
    db.commit()
    second = _read(client, trust["study"])
    assert second == first  # the API, the CSV and the page: identical, so nothing to subtract
    total = db.scalar(select(func.count(m.Response.id)).where(m.Response.submitted_at.is_not(None)))
    assert total == 11 and first[0]["response_rates"][0]["completed"] == 10


def test_a_withheld_team_size_cannot_be_worked_out_by_subtraction(
        db: Session, client: FlaskClient, auth: StaffLogin) -> None:
    trust = _trust(db)
    org, study, wave = trust["org"], trust["study"], trust["wave"]
    # Team C: six invited, two answered (a group smaller than five).
    team_c = f.TeamFactory(organisation=org, code="C", name="Team C")
    members = [f.ParticipantFactory(study=study, team=team_c) for _ in range(6)]
    for person in members[:2]:
        completed_with_scores(db, person, wave, {"equality": 3.0})
    for person in members[2:]:
        f.InvitationFactory(participant=person, wave=wave, status=m.InvitationStatus.EXPIRED)
    for invitation in trust["open"]:
        invitation.status = m.InvitationStatus.EXPIRED
    db.commit()
    publish_due(db, utcnow())
    db.commit()
    auth.login(trust["user"].email)
    data, sheet, _ = _read(client, study)
    total = data["response_rates"][0]["completed"]
    assert total == 12
    shown = [r["completed"] for r in data["team_response_rates"] if r["completed"] is not None]
    # Team C's 2 is withheld, and so is at least one more team's count: 12 minus the shown
    # counts is never a group smaller than five.
    assert 2 not in shown
    assert total - sum(shown) == 0 or total - sum(shown) >= MIN
    assert any(r["completed_suppressed"] for r in data["team_response_rates"])
    assert all(r["rate"] is None for r in data["team_response_rates"] if r["completed_suppressed"])
    assert ",Team C,Baseline,,withheld" in sheet


def test_two_publishers_racing_write_one_snapshot(app: Flask, db: Session) -> None:
    trust = _trust(db)
    for invitation in trust["open"]:
        invitation.status = m.InvitationStatus.EXPIRED
    db.commit()
    sessions = get_sessionmaker(app, writing=True)
    now = utcnow()
    with sessions() as first:
        assert publish_due(first, now) == 1
        first.commit()
    with sessions() as second:
        # The second publisher found the wave unpublished before the first committed, and
        # writes it now: the unique (wave, trust, view) refuses it, and nothing of it is kept.
        study, wave = second.get(m.Study, trust["study"].id), second.get(m.Wave, trust["wave"].id)
        assert study is not None and wave is not None
        assert publish_wave(second, study, wave, trust["org"].id, now) is False
        second.commit()
    views = db.scalars(select(m.DashboardSnapshot.view)
                       .where(m.DashboardSnapshot.wave_id == trust["wave"].id)).all()
    assert sorted(views) == sorted([0, *(t.id for t in trust["org"].teams)])
