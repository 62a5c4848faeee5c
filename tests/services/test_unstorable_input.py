"""A NUL (or another character no database text may hold) is a clear error naming the field, never
a 500, and no log line carries a participant's email or name (engines hide bound parameters)."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Insert, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import get_sessionmaker
from survey.services import api_tokens, enrolment, organisations
from survey.services.errors import InputError, character_problem
from tests import factories as f
from tests.conftest import StaffLogin

EMAIL = "kim.secret@example.nhs.uk"
NAME = "Kimberley Secretname"
NUL_MESSAGE = "holds a character that cannot be stored (U+0000 NUL)"
HEADER = "external_id,email,name,role,team_code,anchor_date\n"


def _no_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    logged = caplog.text + "".join(str(r.exc_info) for r in caplog.records if r.exc_info)
    assert EMAIL not in logged and NAME.split()[1] not in logged


@pytest.fixture
def study(db: Session) -> m.Study:
    s = f.StudyFactory(code="pulse", name="Peer roles pulse")
    f.WaveFactory(study=s, index=1, label="Baseline", offset_days=0)
    f.TeamFactory(code="NORTH", name="North community team")
    db.commit()
    return s


@pytest.fixture
def admin(db: Session, auth: StaffLogin) -> m.User:
    user = f.UserFactory(role=m.StaffRole.ADMIN)
    db.commit()
    assert auth.login(user.email).status_code == 302
    return user


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\ud800"])
def test_the_rule_names_the_character_and_where(char: str) -> None:
    problem = character_problem(f"ab{char}c")
    assert problem is not None and f"U+{ord(char):04X}" in problem and "at character 3" in problem
    assert character_problem("tabs\tand\nnew lines\r\n are fine") is None


@pytest.mark.parametrize("field", ["name", "email", "external_id"])
def test_participant_form_refuses_nul_naming_the_field(
    client: FlaskClient, db: Session, admin: m.User, study: m.Study, field: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    form = {"external_id": "E9", "email": EMAIL, "name": NAME, "role": "manager",
            "team_code": "NORTH", "anchor_date": "2026-02-02"}
    form[field] = form[field][:3] + "\x00" + form[field][3:]
    response = client.post("/admin/studies/pulse/participants/new", data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert NUL_MESSAGE in page
    db.rollback()
    assert db.scalar(select(func.count(m.Contact.participant_id))) == 0
    _no_personal_data(caplog)


def test_csv_import_refuses_nul_naming_line_and_column(
    client: FlaskClient, db: Session, admin: m.User, study: m.Study, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    text = (HEADER + f"E1,{EMAIL},{NAME},peer_worker,NORTH,2026-01-05\n"
            + f"E2,other@example.nhs.uk,Al\x00ex {NAME},colleague,NORTH,2026-01-05\n")
    response = client.post("/admin/studies/pulse/participants/import",
                           data={"file": (io.BytesIO(text.encode()), "people.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"line 3, column name: {NUL_MESSAGE} at character 3" in page
    db.rollback()
    assert db.scalar(select(func.count(m.Contact.participant_id))) == 0  # nothing half-written
    _no_personal_data(caplog)


def test_trust_and_team_names_refuse_nul(client: FlaskClient, db: Session, admin: m.User) -> None:
    response = client.post("/admin/trusts", data={"trust-code": "SHP", "trust-name": "Shire\x00"})
    assert response.status_code == 400
    assert f"The trust&#39;s name {NUL_MESSAGE}" in response.get_data(as_text=True)
    f.OrganisationFactory(code="SHP", name="Shire")
    db.commit()
    response = client.post("/admin/teams", data={"team-trust": "SHP", "team-code": "SHP-EIP",
                                                 "team-name": "Early\x00", "team-service_type": ""})
    assert response.status_code == 400
    assert f"The team&#39;s name {NUL_MESSAGE}" in response.get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(func.count(m.Team.id))) == 0


def test_services_refuse_nul_for_commands_too(db: Session, study: m.Study) -> None:
    user = f.UserFactory(role=m.StaffRole.RESEARCHER)
    db.commit()
    with pytest.raises(InputError) as token_error:
        api_tokens.create(db, user, "lap\x00top")
    assert token_error.value.by_field() == {"name": f"The name {NUL_MESSAGE} at character 4; "
                                            "remove it and try again."}
    with pytest.raises(InputError) as team_error:
        organisations.update_team(db, None, db.scalars(select(m.Team)).one(), "North\x00", "")
    assert NUL_MESSAGE in team_error.value.by_field()["name"]
    with pytest.raises(InputError) as csv_error:
        enrolment.import_csv(db, study, HEADER + "E1\x00,a@b.nhs.uk,A,peer_worker,NORTH,2026-01-05\n")
    assert [str(p) for p in csv_error.value.problems] == [
        f"line 2, column external_id: {NUL_MESSAGE} at character 3; remove it and try again"]
    db.rollback()
    assert db.scalar(select(func.count(m.ApiToken.id))) == 0


def test_token_page_refuses_nul(make_app: Callable[..., Flask], db: Session) -> None:
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    user = f.UserFactory(role=m.StaffRole.RESEARCHER)
    db.commit()
    assert StaffLogin(client).login(user.email).status_code == 302
    page = client.get("/staff/account").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert csrf is not None
    response = client.post("/staff/account/api-tokens", data={"name": "lap\x00top",
                                                              "csrf_token": csrf.group(1)})
    assert response.status_code == 400 and NUL_MESSAGE in response.get_data(as_text=True)


def test_sign_in_with_a_nul_in_the_email_is_refused_not_a_500(client: FlaskClient, db: Session) -> None:
    response = client.post("/staff/login", data={"email": "a\x00@example.org", "password": "x" * 12})
    assert response.status_code in (200, 400)


def _contact_for_nobody(study: m.Study) -> Insert:
    """Contact details for a participant that does not exist: refused by the foreign key."""
    return insert(m.Contact).values(participant_id=987654, study_id=study.id, external_id="E1",
                                    email=EMAIL, name=NAME)


def test_database_errors_never_carry_bound_parameters(app: Flask, study: m.Study) -> None:
    """The engine hides parameters, so a failed statement's message holds no email or name."""
    with get_sessionmaker(app)() as session:
        statement = _contact_for_nobody(study)
        with pytest.raises(IntegrityError) as failed:
            session.execute(statement)
    text = str(failed.value)
    assert "hide_parameters" in text
    assert EMAIL not in text and NAME not in text


def test_an_unhandled_database_error_logs_no_personal_data(
    make_app: Callable[..., Flask], study: m.Study, caplog: pytest.LogCaptureFixture,
) -> None:
    """A 500 from a failed insert of contact details: the log has the traceback, not the values."""
    app = make_app()

    def failing() -> str:
        with get_sessionmaker(app)() as session:
            session.execute(_contact_for_nobody(study))
            session.flush()
        return "not reached"

    app.add_url_rule("/boom", "boom", failing)
    caplog.set_level(logging.DEBUG)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert any(r.exc_info for r in caplog.records), "the traceback should be logged"
    _no_personal_data(caplog)


def test_a_nul_no_check_caught_is_a_400_not_a_500(
    make_app: Callable[..., Flask], database_url: str, caplog: pytest.LogCaptureFixture,
) -> None:
    """The backstop: PostgreSQL's refusal of a NUL becomes the plain 400 page, logged without it."""
    app = make_app()

    def lookup() -> str:
        with get_sessionmaker(app)() as session:
            session.scalars(select(m.Team).where(m.Team.name == f"{NAME}\x00")).all()
        return "looked up"

    app.add_url_rule("/lookup", "lookup", lookup)
    caplog.set_level(logging.DEBUG)
    response = app.test_client().get("/lookup")
    # SQLite stores and compares NUL; PostgreSQL refuses it.
    assert response.status_code == (400 if database_url.startswith("postgresql") else 200)
    _no_personal_data(caplog)
