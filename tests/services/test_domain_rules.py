"""Each domain rule lives once: who is active, which group a role is in, finding staff by email."""

from __future__ import annotations

import itertools

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.services import staff
from tests import factories as f


def test_is_active_means_the_same_in_python_and_in_sql(db: Session) -> None:
    study = f.StudyFactory()
    people = {}
    for status, decision in itertools.product(m.ParticipantStatus, [None, *m.ConsentDecision]):
        people[(status, decision)] = f.ParticipantFactory(study=study, status=status,
                                                          consent_decision=decision)
    db.commit()
    in_sql = set(db.scalars(select(m.Participant.id).where(m.Participant.is_active)))
    in_python = {p.id for p in people.values() if p.is_active}
    assert in_sql == in_python
    # Only the withdrawn and those who declined are out; no decision yet is still active.
    assert {key for key, p in people.items() if p.id in in_sql} == {
        (m.ParticipantStatus.ACTIVE, d) for d in [None, *m.ConsentDecision]
        if d != m.ConsentDecision.DECLINED
    }


def test_managers_answer_the_colleague_survey() -> None:
    assert {role: role.audience for role in m.Role} == {
        m.Role.PEER_WORKER: "peer_worker", m.Role.COLLEAGUE: "colleague", m.Role.MANAGER: "colleague"}


def test_staff_are_found_by_email_whatever_its_case(db: Session) -> None:
    user = f.UserFactory(email="lead@example.org")
    db.commit()
    assert staff.by_email(db, "  Lead@Example.ORG ") is user
    assert staff.by_email(db, "someone@example.org") is None
