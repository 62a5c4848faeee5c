"""The service contract: one error type listing every problem, and the caller commits."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.services import enrolment, invitations, studies
from survey.services.errors import InputError, Problem
from tests import factories as f

OPENS = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


def test_input_error_takes_problems_a_mapping_or_one_message() -> None:
    listed = InputError([Problem("email", "is empty", line=3), Problem(None, "the file is empty")])
    assert str(listed) == "line 3, column email: is empty; the file is empty"
    assert [p.line for p in listed.problems] == [3, None]
    older = InputError({"code": "is taken.", "name": "is empty."})
    assert older.problems == [Problem("code", "is taken."), Problem("name", "is empty.")]
    assert str(older) == "code: is taken.; name: is empty."
    assert InputError("no such item").problems == [Problem(None, "no such item")]


def test_by_field_joins_the_problems_of_one_field() -> None:
    error = InputError([Problem("email", "is empty."), Problem("email", "is too long."),
                        Problem(None, "Nothing was saved.")])
    assert error.by_field() == {"email": "is empty. is too long.", "": "Nothing was saved."}
    assert error.messages() == ["email: is empty.", "email: is too long.", "Nothing was saved."]


def count(db: Session, model: type[m.Base]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_services_taking_a_session_leave_the_commit_to_the_caller(db: Session) -> None:
    study = f.StudyFactory()
    f.TeamFactory(code="NORTH")
    f.WaveFactory(study=study, index=1, offset_days=0)
    db.commit()
    data = ("external_id,email,name,role,team_code,anchor_date\n"
            "E1,sam@example.nhs.uk,Sam,peer_worker,NORTH,2026-01-05\n")
    assert enrolment.import_csv(db, study, data).created == 1
    assert invitations.materialise(db, OPENS) == 1
    assert studies.set_status(db, None, study, m.StudyStatus.PAUSED) is True
    db.rollback()  # the caller decides: nothing of the three was committed
    assert (count(db, m.Participant), count(db, m.Invitation), count(db, m.AuditEvent)) == (0, 0, 0)
    assert db.scalar(select(m.Study.status)) == m.StudyStatus.ACTIVE


def test_pausing_is_recorded_once_and_resuming_undoes_it(db: Session) -> None:
    study = f.StudyFactory()
    db.commit()
    assert studies.set_status(db, None, study, m.StudyStatus.PAUSED) is True
    assert studies.set_status(db, None, study, m.StudyStatus.PAUSED) is False
    assert studies.set_status(db, None, study, m.StudyStatus.ACTIVE) is True
    db.commit()
    actions = db.scalars(select(m.AuditEvent.action).order_by(m.AuditEvent.id)).all()
    assert actions == ["study.pause", "study.resume"]
    assert studies.by_code(db, study.code) is study
    assert studies.by_code(db, "no-such-study") is None


def test_a_participant_the_service_refuses_raises_input_error_per_field(db: Session) -> None:
    study = f.StudyFactory()
    f.TeamFactory(code="NORTH")
    db.commit()
    with pytest.raises(InputError) as refused:
        enrolment.save_participant(db, study, {"external_id": "E1", "email": "x@", "role": "nurse",
                                               "team_code": "NORTH", "anchor_date": "2026-01-05"})
    assert {p.field for p in refused.value.problems} == {"email", "role"}
    assert count(db, m.Participant) == 0
