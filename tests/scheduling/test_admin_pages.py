"""The admin pages: studies with pause/resume, participants, CSV import, add/edit, outbox."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import models as m
from tests import factories as f
from tests.conftest import StaffLogin

HEADER = "external_id,email,name,role,team_code,anchor_date\n"


@pytest.fixture
def study(db: Session) -> m.Study:
    s = f.StudyFactory(code="pulse", name="Peer roles pulse")
    f.WaveFactory(study=s, index=1, label="Baseline", offset_days=0, reminder_offsets=[3, 7])
    f.TeamFactory(code="NORTH", name="North community team")
    f.TeamFactory(code="SOUTH", name="South crisis team")
    db.commit()
    return s


def signed_in(db: Session, auth: StaffLogin, **traits: bool) -> m.User:
    user = f.UserFactory(**traits)
    db.commit()
    assert auth.login(user.email).status_code == 302
    return user


@pytest.mark.parametrize("path", ["/admin/", "/admin/studies/pulse/participants",
                                  "/admin/studies/pulse/participants/import", "/admin/outbox"])
def test_staff_only(client: FlaskClient, db: Session, auth: StaffLogin, study: m.Study,
                    path: str) -> None:
    assert client.get(path).status_code == 302  # to the sign-in page
    signed_in(db, auth, monitor=True)
    assert client.get(path).status_code == 403


def test_outbox_page_is_for_admins(client: FlaskClient, db: Session, auth: StaffLogin,
                                   study: m.Study) -> None:
    signed_in(db, auth)  # researcher
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/outbox").status_code == 403


def test_pause_and_resume_with_csrf(make_app: Callable[..., Flask], db: Session,
                                    study: m.Study) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    user = f.UserFactory()
    db.commit()
    StaffLogin(client).login(user.email)  # with the forms' CSRF tokens
    page = client.get("/admin/").get_data(as_text=True)
    assert "Baseline" in page and "0 days after the anchor date" in page and "3 and 7 days" in page
    assert client.post("/admin/studies/pulse/pause").status_code == 400  # no CSRF token
    db.rollback()  # end the read snapshot
    db.refresh(study)
    assert study.status == m.StudyStatus.ACTIVE
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert csrf is not None
    response = client.post("/admin/studies/pulse/pause", data={"csrf_token": csrf.group(1)},
                           follow_redirects=True)
    assert "is paused: no invitations or reminders will be sent" in response.get_data(as_text=True)
    db.rollback()  # end the read snapshot
    db.refresh(study)
    assert study.status == m.StudyStatus.PAUSED
    client.post("/admin/studies/pulse/resume", data={"csrf_token": csrf.group(1)})
    db.rollback()  # end the read snapshot
    db.refresh(study)
    assert study.status == m.StudyStatus.ACTIVE
    assert [e.action for e in db.scalars(select(m.AuditEvent).where(
        m.AuditEvent.action.like("study.%")).order_by(m.AuditEvent.id))] == [
        "study.pause", "study.resume"]


def test_template_download(client: FlaskClient, db: Session, auth: StaffLogin,
                           study: m.Study) -> None:
    signed_in(db, auth)
    response = client.get("/admin/studies/pulse/participants/template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data(as_text=True).splitlines()[0] == HEADER.strip() + ",mobile,channel,language"


def upload(client: FlaskClient, text: str) -> tuple[int, str]:
    response = client.post(
        "/admin/studies/pulse/participants/import",
        data={"file": (io.BytesIO(text.encode()), "people.csv")},
        content_type="multipart/form-data", follow_redirects=True,
    )
    return response.status_code, response.get_data(as_text=True)


def test_import_through_the_web_lists_problems_or_imports(
    client: FlaskClient, db: Session, auth: StaffLogin, study: m.Study
) -> None:
    signed_in(db, auth)
    status, page = upload(client, HEADER + "E1,oops,Sam,peer_worker,WEST,2026-01-05\n")
    assert status == 400
    assert "nothing was saved" in page
    assert "line 2, column email: &#39;oops&#39; is not a valid email address" in page
    assert "line 2, column team_code: there is no team with code &#39;WEST&#39;" in page
    assert db.scalar(select(func.count(m.Participant.id))) == 0
    good = (HEADER + "E1,sam@example.nhs.uk,Sam,peer_worker,NORTH,2026-01-05\n"
            + "E2,alex@example.nhs.uk,,colleague,SOUTH,2026-01-05\n")
    status, page = upload(client, good)
    assert status == 200 and "Import done: 2 added, 0 updated, 0 unchanged." in page
    codes = db.scalars(select(m.Participant.code)).all()
    assert all(code in page for code in codes)
    assert "sam@example.nhs.uk" not in page  # contact details only on the edit page
    assert "North community team" in page and "scheduled" not in page


def test_add_edit_and_move_a_participant(client: FlaskClient, db: Session, auth: StaffLogin,
                                         study: m.Study) -> None:
    signed_in(db, auth)
    form = {"external_id": "E9", "email": "kim@example.nhs.uk", "name": "Kim", "role": "manager",
            "team_code": "NORTH", "anchor_date": "2026-02-02"}
    bad = client.post("/admin/studies/pulse/participants/new", data=form | {"anchor_date": "2/2/26"})
    assert bad.status_code == 400
    assert "is not a date in ISO 8601 form" in bad.get_data(as_text=True)
    assert client.post("/admin/studies/pulse/participants/new", data=form).status_code == 302
    kim = db.scalars(select(m.Participant)).one()
    edit_url = f"/admin/studies/pulse/participants/{kim.code}/edit"
    page = client.get(edit_url).get_data(as_text=True)
    assert 'value="kim@example.nhs.uk"' in page and '<option selected value="NORTH">' in page
    assert '<option selected value="en">English</option>' in page  # the study's default
    moved = client.post(edit_url, data=form | {"team_code": "SOUTH", "email": "kim@trust.nhs.uk",
                                               "external_id": "ignored", "language": "cy"})
    assert moved.status_code == 302
    db.rollback()  # end the read snapshot
    kim = db.scalars(select(m.Participant)).one()
    assert (kim.team.code, kim.language) == ("SOUTH", "cy")
    assert kim.contact is not None
    assert (kim.contact.email, kim.contact.external_id) == ("kim@trust.nhs.uk", "E9")
    assert client.get("/admin/studies/pulse/participants/PNOPE/edit").status_code == 404
    # Opening the edit form shows contact details: who looked is audited, not what they saw.
    views = db.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "participant.contact_view")).all()
    assert [(v.target_id, v.detail) for v in views] == [(kim.code, {})]


def test_outbox_page_shows_failures_without_addresses(
    client: FlaskClient, db: Session, auth: StaffLogin, study: m.Study
) -> None:
    signed_in(db, auth, admin=True)
    invitation = f.InvitationFactory(sent=True, wave=study.waves[0],
                                     participant=f.ParticipantFactory(study=study))
    db.add(m.OutboxMessage(dedupe_key="invite:1", kind="invite", invitation_id=invitation.id,
                           recipient="gone@example.org", subject="s", body_text="b",
                           status=m.OutboxStatus.FAILED, attempts=1,
                           last_error="recipient refused: 550 No such mailbox here"))
    db.commit()
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "550 No such mailbox here" in page and invitation.participant.code in page
    assert "gone@example.org" not in page
    assert re.search(r'<th scope="row">failed</th><td>1</td>', page)
