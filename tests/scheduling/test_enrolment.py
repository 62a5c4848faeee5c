"""Enrolment by CSV: all or nothing, every problem by line and column, re-import updates."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.services import enrolment, invitations
from survey.services.errors import InputError
from tests import factories as f

HEADER = "external_id,email,name,role,team_code,anchor_date\n"


def participants(db: Session) -> int:
    return db.scalar(select(func.count(m.Participant.id))) or 0


@pytest.fixture
def study(db: Session) -> m.Study:
    s = f.StudyFactory(code="pulse")
    f.TeamFactory(code="NORTH")
    f.TeamFactory(code="SOUTH")
    db.commit()
    return s


GOOD = (HEADER
        + "E1,sam@example.nhs.uk,Sam Peer,peer_worker,NORTH,2026-01-05\n"
        + "E2,alex@example.nhs.uk,,colleague,NORTH,2026-01-05\n"
        + "E3,jo@example.nhs.uk,Jo,manager,SOUTH,2026-02-02\n")


def test_import_creates_pseudonymous_participants_with_contacts_apart(
    db: Session, study: m.Study
) -> None:
    result = enrolment.import_csv(db, study, GOOD.encode())
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    contact = db.scalars(select(m.Contact).where(m.Contact.external_id == "E1")).one()
    person = contact.participant
    assert (contact.email, contact.name) == ("sam@example.nhs.uk", "Sam Peer")
    assert re.fullmatch(r"P[0-9A-F]{10}", person.code)  # random, not derived from external_id
    assert (person.role, person.team.code, person.anchor_date) == (
        m.Role.PEER_WORKER, "NORTH", dt.date(2026, 1, 5))
    event = db.scalars(select(m.AuditEvent)).one()
    assert (event.action, event.detail["created"]) == ("participants.import", 3)


def test_importing_again_updates_and_never_duplicates(db: Session, study: m.Study) -> None:
    enrolment.import_csv(db, study, GOOD)
    codes = set(db.scalars(select(m.Participant.code)))
    again = enrolment.import_csv(db, study, GOOD)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    moved = GOOD.replace("E3,jo@example.nhs.uk,Jo,manager,SOUTH", "E3,jo@example.nhs.uk,Jo,manager,NORTH")
    changed = enrolment.import_csv(db, study, moved)
    assert (changed.created, changed.updated) == (0, 1)
    assert participants(db) == 3 and set(db.scalars(select(m.Participant.code))) == codes
    jo = db.scalars(select(m.Contact).where(m.Contact.external_id == "E3")).one().participant
    assert jo.team.code == "NORTH"


def test_a_bad_file_lists_every_problem_and_writes_nothing(db: Session, study: m.Study) -> None:
    bad = (HEADER
           + "E1,sam@example.nhs.uk,Sam,peer_worker,NORTH,2026-01-05\n"
           + "E2,x@,Alex,colleague,NORTH,2026-01-05\n"
           + "E3,jo@example.nhs.uk,Jo,nurse,WEST,2026-13-01\n"
           + "E1,sam2@example.nhs.uk,Sam again,peer_worker,NORTH,2026-01-05\n"
           + ",kim@example.nhs.uk,Kim,peer_worker,NORTH,2026-01-05\n"
           + "E6,lee@example.nhs.uk,Lee,peer_worker,NORTH\n")
    with pytest.raises(InputError) as caught:
        enrolment.import_csv(db, study, bad)
    assert [str(p) for p in caught.value.problems] == [
        "line 3, column email: 'x@' is not a valid email address",
        "line 4, column role: 'nurse' is not a role; use one of peer_worker, colleague, manager",
        "line 4, column team_code: there is no team with code 'WEST'",
        "line 4, column anchor_date: '2026-13-01' is not a date in ISO 8601 form (YYYY-MM-DD)",
        "line 5, column external_id: 'E1' is also on line 2",
        "line 6, column external_id: is empty; a value is needed",
        "line 7: expected 6 values, found 5",
    ]
    assert participants(db) == 0
    assert db.scalar(select(func.count(m.Contact.participant_id))) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"external_id,email,role\nE1,a@example.org,colleague\n",
         "line 1: missing column(s): name, team_code, anchor_date"),
        (HEADER.encode(), "the file has a header but no participants"),
        (HEADER.encode() + b"E1,\xff@example.org,,colleague,NORTH,2026-01-05\n",
         "the file is not UTF-8 text"),
    ],
)
def test_unreadable_files_are_explained(
    db: Session, study: m.Study, data: bytes, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        enrolment.import_csv(db, study, data)
    assert message in str(caught.value)
    assert participants(db) == 0


def test_the_same_email_for_two_people_is_refused(db: Session, study: m.Study) -> None:
    enrolment.import_csv(db, study, GOOD)
    clash = HEADER + "E9,sam@example.nhs.uk,Other Sam,colleague,NORTH,2026-01-05\n"
    with pytest.raises(InputError) as caught:
        enrolment.import_csv(db, study, clash)
    assert str(caught.value) == ("line 2, column email: 'sam@example.nhs.uk' already belongs to "
                                 "the participant with external_id 'E1'")


def test_the_template_is_a_valid_file(db: Session) -> None:
    study = f.StudyFactory()
    f.TeamFactory(code="TEAM001")
    db.commit()
    text = enrolment.template_csv()
    assert text.splitlines()[0] == HEADER.strip() + ",mobile,channel,language"
    assert enrolment.import_csv(db, study, text).created == 2


def test_a_new_anchor_date_moves_invitations_not_yet_sent(db: Session, study: m.Study) -> None:
    f.WaveFactory(study=study, index=1, offset_days=0)
    db.commit()
    enrolment.import_csv(db, study, GOOD)
    invitations.materialise(db, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    enrolment.import_csv(db, study, GOOD.replace("Sam Peer,peer_worker,NORTH,2026-01-05",
                                                 "Sam Peer,peer_worker,NORTH,2026-03-02"))
    sam = db.scalars(select(m.Contact).where(m.Contact.external_id == "E1")).one().participant
    invitation = db.scalars(select(m.Invitation).where(m.Invitation.participant_id == sam.id)).one()
    db.refresh(invitation)
    assert invitation.opens_at == dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def test_cli_import(runner: FlaskCliRunner, db: Session, study: m.Study, tmp_path: Path) -> None:
    good = tmp_path / "people.csv"
    good.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(args=["participants", "import", str(good), "--study", "pulse"])
    assert result.exit_code == 0, result.output
    assert "3 added, 0 updated, 0 unchanged in study pulse" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "E7,nobody,Nobody,peer_worker,NORTH,2026-01-05\n", encoding="utf-8")
    result = runner.invoke(args=["participants", "import", str(bad), "--study", "pulse"])
    assert result.exit_code == 1
    assert f"{bad}: line 2, column email: 'nobody' is not a valid email address" in result.output
    assert "nothing was written" in result.output
    result = runner.invoke(args=["participants", "import", str(good), "--study", "nope"])
    assert result.exit_code == 2 and "no study with code 'nope'" in result.output
    db.expire_all()
    assert participants(db) == 3
