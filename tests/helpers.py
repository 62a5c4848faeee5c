"""Helper functions shared by test modules (fixtures live in conftest.py files, not here)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from survey import models as m
from survey.db import utcnow
from tests import factories as f


def publish(db: Session, days: int = 365, fresh: bool = False) -> int:
    """Publish the dashboard of every wave closed `days` from now (a year: every test wave), commit.

    `fresh` first drops every snapshot: the figures as they would be published from the data now.
    """
    from sqlalchemy import delete

    from survey.services.dashboard_publication import publish_due

    if fresh:
        db.execute(delete(m.DashboardSnapshot))
    count = publish_due(db, utcnow() + dt.timedelta(days=days))
    db.commit()
    return count


def completed_with_scores(db: Session, participant: m.Participant, wave: m.Wave,
                          scores: dict[str, float]) -> None:
    """Add a completed invitation whose response has these scale scores (not committed)."""
    invitation = f.InvitationFactory(participant=participant, wave=wave,
                                     status=m.InvitationStatus.COMPLETED, completed_at=utcnow())
    response = m.Response(invitation=invitation, instrument_id="x", instrument_version=1,
                          instrument_hash="0" * 64, submitted_at=utcnow())
    response.scores = [m.ScaleScore(scale=s, score=v, items_answered=5) for s, v in scores.items()]
    db.add(response)
