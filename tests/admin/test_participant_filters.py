"""The participants list filtered by status for a wave, with counts per status (run overview)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import utcnow
from survey.services import run_overview
from tests import factories as f
from tests.admin.conftest import SignIn

ROW = re.compile(r'<th scope="row">(P\d{3})</th>')


def stage(db: Session) -> tuple[m.Study, m.Wave, m.Wave]:
    """Twelve people in two waves; in wave 1: 3 not started, 2 started, 4 completed, and some
    whose messages do not reach them."""
    study = f.StudyFactory(code="runs")
    team = f.TeamFactory()
    first = f.WaveFactory(study=study, index=1, label="Baseline")
    second = f.WaveFactory(study=study, index=2, label="3 months", offset_days=90)
    states = ([m.InvitationStatus.SENT] * 3 + [m.InvitationStatus.STARTED] * 2
              + [m.InvitationStatus.COMPLETED] * 4 + [m.InvitationStatus.SCHEDULED] * 3)
    for n, status in enumerate(states):
        person = f.ParticipantFactory(study=study, team=team, code=f"P{n:03d}")
        f.InvitationFactory(participant=person, wave=first, status=status)
        f.InvitationFactory(participant=person, wave=second, status=m.InvitationStatus.SCHEDULED)
    db.flush()
    people = {p.code: p for p in db.query(m.Participant).filter_by(study_id=study.id)}
    people["P009"].contact.email_failed_at = utcnow()  # type: ignore[union-attr]  # bounced, no mobile
    people["P010"].sms_opted_out_at = utcnow()  # texts stopped; email still works
    people["P011"].email_opted_out_at = utcnow()  # emails stopped, no mobile: unreachable
    db.commit()
    return study, first, second


def test_counts_and_rows_agree_for_every_filter(db: Session) -> None:
    study, first, second = stage(db)
    counts = run_overview.counts(db, study, first)
    F = run_overview.WaveFilter
    assert counts == {F.NOT_STARTED: 3, F.STARTED: 2, F.COMPLETED: 4, F.BOUNCED: 1,
                      F.UNREACHABLE: 2, F.TEXTS_STOPPED: 1, F.EMAILS_STOPPED: 1}
    for choice, count in counts.items():
        rows = db.scalars(run_overview.people(study, first, choice)).all()
        assert len(rows) == count, choice
    assert {p.code for p in db.scalars(run_overview.people(study, first, F.UNREACHABLE))} == {
        "P009", "P011"}
    assert run_overview.counts(db, study, second)[F.COMPLETED] == 0


def test_the_list_filters_by_wave_and_status(
    client: FlaskClient, db: Session, admin: m.User
) -> None:
    stage(db)
    page = client.get("/admin/studies/runs/participants").get_data(as_text=True)
    assert "Filter by status in Baseline" in page
    assert "completed (4)</a>" in page and "no working contact (2)</a>" in page
    done = client.get("/admin/studies/runs/participants?wave=1&status=completed")
    assert done.status_code == 200
    assert ROW.findall(done.get_data(as_text=True)) == ["P005", "P006", "P007", "P008"]
    assert re.search(r'href="[^"]*status=completed[^"]*" aria-current="page"',
                     done.get_data(as_text=True))
    later = client.get("/admin/studies/runs/participants?wave=2&status=completed")
    assert ROW.findall(later.get_data(as_text=True)) == []
    assert "Filter by status in 3 months" in later.get_data(as_text=True)
    # A status that is not one of the filters is refused, not guessed.
    assert client.get("/admin/studies/runs/participants?status=lost").status_code == 400
    # No address reaches the page.
    assert not re.search(r"person\d+@example\.org", page)


def test_trust_monitors_cannot_see_the_list(client: FlaskClient, db: Session,
                                            sign_in: SignIn) -> None:
    stage(db)
    sign_in(monitor=True)
    answer = client.get("/admin/studies/runs/participants?wave=1&status=completed")
    assert answer.status_code == 403
    assert "P005" not in answer.get_data(as_text=True)
