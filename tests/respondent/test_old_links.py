"""An old wave's link shows only what was known at that wave: never scores given later through
newer links (issue 19)."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.services import responses
from survey.services.demo import load_demo
from survey.services.tokens import issue_token


def _three_waves(db: Session) -> tuple[m.Participant, list[m.Invitation]]:
    """A demo peer worker who answered three waves, and those invitations in wave order."""
    load_demo(db, today=dt.date(2026, 11, 26))
    three = (select(m.Invitation.participant_id)
             .where(m.Invitation.status == m.InvitationStatus.COMPLETED)
             .group_by(m.Invitation.participant_id).having(func.count() >= 3))
    participant = db.scalars(select(m.Participant).where(
        m.Participant.id.in_(three), m.Participant.role == m.Role.PEER_WORKER)
        .order_by(m.Participant.code)).first()
    assert participant is not None
    completed = list(db.scalars(
        select(m.Invitation).join(m.Wave)
        .where(m.Invitation.participant_id == participant.id,
               m.Invitation.status == m.InvitationStatus.COMPLETED)
        .order_by(m.Wave.index)))
    return participant, completed


def test_own_scores_stop_at_the_wave_asked_for(db: Session) -> None:
    participant, completed = _three_waves(db)
    first = completed[0].wave.index
    assert [w.wave_index for w in responses.own_scores(db, participant)] == [
        i.wave.index for i in completed]
    assert [w.wave_index for w in responses.own_scores(db, participant, up_to=first)] == [first]


def test_the_first_waves_link_shows_no_later_wave(db: Session, client: FlaskClient) -> None:
    _, completed = _three_waves(db)
    old_token, new_token = issue_token(db, completed[0]), issue_token(db, completed[-1])
    db.commit()
    labels = [i.wave.label for i in completed]
    old = client.get(f"/r/{old_token}/thanks").get_data(as_text=True)
    new = client.get(f"/r/{new_token}/thanks").get_data(as_text=True)
    assert all(label in new for label in labels)  # the newest link shows every wave so far
    assert labels[0] in old
    for later in labels[1:]:
        header = f"<th scope=\"col\">{later}</th>"
        assert header not in old and header in new
