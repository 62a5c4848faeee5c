"""The attrition page and report: access, retention from the database, patterns, no contact details."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.services import attrition
from tests import factories as f
from tests.conftest import StaffLogin

PAGE = "/research/demo/attrition"


def _answered(db: Session) -> dict[str, set[int]]:
    """Waves each participant submitted, straight from the tables."""
    out: dict[str, set[int]] = {}
    for code, wave in db.execute(
        select(m.Participant.code, m.Wave.index)
        .join(m.Invitation, m.Invitation.participant_id == m.Participant.id)
        .join(m.Wave, m.Invitation.wave_id == m.Wave.id)
        .join(m.Response, m.Response.invitation_id == m.Invitation.id)
        .where(m.Response.submitted_at.is_not(None))
    ):
        out.setdefault(code, set()).add(wave)
    return out


def test_report_counts_match_the_database(demo: m.Study, db: Session) -> None:
    report = attrition.build(db, demo)
    answered = _answered(db)
    cohort = {p for p, waves in answered.items() if 1 in waves}
    assert report.waves[0] == 1
    for row in report.overall.to_dict(orient="records"):
        at = {p for p, waves in answered.items() if row["wave"] in waves}
        assert (row["answered"], row["cohort"], row["retained"]) == (len(at), len(cohort), len(at & cohort))
    patterns = {}
    invited = {c for c, in db.execute(select(m.Participant.code).join(m.Invitation).join(m.Wave)
                                      .where(m.Wave.index.in_(report.waves)))}
    for p in invited:
        key = "".join("X" if w in answered.get(p, set()) else "." for w in report.waves)
        patterns[key] = patterns.get(key, 0) + 1
    assert dict(zip(report.patterns["pattern"], report.patterns["n"], strict=True)) == patterns
    assert report.enrolled == len(invited)
    assert report.by_role.loc[report.by_role["wave"] == 1, "cohort"].sum() == len(cohort)
    assert report.by_team["team"].nunique() == 12
    assert report.baseline is not None
    assert set(report.baseline["scale"]) >= {"identity", "equality"}
    ok = report.baseline[report.baseline["note"] == ""]
    assert (ok["ci_low"] < ok["difference"]).all() and (ok["difference"] < ok["ci_high"]).all()


def test_page_for_researchers_only_and_without_contact_details(
    demo: m.Study, db: Session, client: FlaskClient, auth: StaffLogin
) -> None:
    assert client.get(PAGE).status_code == 302
    monitor = f.UserFactory(monitor=True)
    db.commit()
    auth.login(monitor.email)
    assert client.get(PAGE).status_code == 403
    auth.logout()
    researcher = f.UserFactory(role=m.StaffRole.RESEARCHER)
    db.commit()
    auth.login(researcher.email)
    page = client.get(PAGE)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Retention by team" in text and "Patterns of missing waves" in text
    assert "Welch" in text
    for contact in db.scalars(select(m.Contact)):
        for detail in (contact.email, contact.mobile, contact.external_id):
            assert detail is None or detail not in text


def test_a_study_without_answers_says_so(db: Session, client: FlaskClient, auth: StaffLogin) -> None:
    f.StudyFactory(code="empty")
    user = f.UserFactory(role=m.StaffRole.ADMIN)
    db.commit()
    auth.login(user.email)
    text = client.get("/research/empty/attrition").get_data(as_text=True)
    assert "no wave has been answered yet" in text
