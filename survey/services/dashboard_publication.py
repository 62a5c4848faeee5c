"""The publication rule: a wave's dashboard figures are published once, frozen, when it closes.

A wave is published for a trust once none of that trust's invitations to it is still open
(every one completed, expired or cancelled, or past its closing time), and only after every
earlier wave. Publishing writes one snapshot for the trust (view 0: counts and score sums by
team and role group) and one per team (that team's change estimates), all in one savepoint;
the dashboard, its CSV and the API are built from snapshots alone. So two reads never differ
by one person's answer, and an answer that arrives after publication changes nothing shown.
Two schedulers may publish at once: the unique (wave, trust, view) lets one win, and the
other's savepoint is rolled back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from survey.models import (
    DashboardSnapshot,
    Invitation,
    InvitationStatus,
    Participant,
    Study,
    Team,
    Wave,
)
from survey.models.dashboard import TRUST_VIEW
from survey.services import dashboard_stats as stats
from survey.services.dashboard_snapshots import scores, sums, tallies

CLOSED = (InvitationStatus.COMPLETED, InvitationStatus.EXPIRED, InvitationStatus.CANCELLED)


def _is_open(now: dt.datetime) -> Any:
    """SQL: an invitation that can still be answered."""
    return Invitation.status.not_in(CLOSED) & (Invitation.closes_at > now)


def _trusts_invited(db: Session, wave: Wave) -> set[int]:
    """The trusts with a (not cancelled) invitation to this wave."""
    return set(db.scalars(
        select(Team.organisation_id).distinct()
        .join(Participant, Participant.team_id == Team.id)
        .join(Invitation, Invitation.participant_id == Participant.id)
        .where(Invitation.wave_id == wave.id,
               Invitation.status != InvitationStatus.CANCELLED)))


def _still_open(db: Session, wave: Wave, organisation_id: int, now: dt.datetime) -> bool:
    """Whether any of the trust's invitations to this wave can still be answered."""
    return bool(db.scalar(select(exists().where(
        Invitation.wave_id == wave.id, _is_open(now),
        Invitation.participant_id == Participant.id, Participant.team_id == Team.id,
        Team.organisation_id == organisation_id))))


def _changes(db: Session, study: Study, organisation_id: int, wave: Wave,
             team_id: int | None) -> dict[str, Any]:
    """Standard errors of the change since the previous wave and since baseline, by scale and
    group, with the number of people who answered both (the value is worked out when shown)."""
    order = [w.index for w in study.waves]
    position = order.index(wave.index)
    if position == 0:
        return {"rows": []}
    firsts = sorted({order[position - 1], order[0]})
    found = scores(db, study, organisation_id, [*firsts, wave.index], team_id)
    rows: list[list[Any]] = []
    for scale, group, wave_index in sorted(k for k in found if k[2] == wave.index):
        after = found[(scale, group, wave_index)]
        for first in firsts:
            before = found.get((scale, group, first), {})
            pairs = len(before.keys() & after.keys())
            estimate = stats.change(before, after) if pairs >= 2 else None
            if isinstance(estimate, stats.Estimate):
                rows.append([scale, group, first, estimate.se, estimate.df, pairs])
            else:
                rows.append([scale, group, first, None, None, pairs])
    return {"rows": rows}


def publish_wave(db: Session, study: Study, wave: Wave, organisation_id: int,
                 now: dt.datetime) -> bool:
    """Publish one wave for one trust, every view in one savepoint; False if another won."""
    totals = tallies(db, study, organisation_id, [wave.id])
    trust_figures = {
        "totals": [[kind, part, *counts] for (_, kind, part), counts in sorted(
            totals.items(), key=lambda item: (item[0][1], str(item[0][2])))],
        "sums": sums(db, study, organisation_id, wave.index),
        "changes": _changes(db, study, organisation_id, wave, None),
    }
    views = {TRUST_VIEW: trust_figures}
    for team_id in db.scalars(select(Team.id).where(Team.organisation_id == organisation_id)):
        views[team_id] = {"changes": _changes(db, study, organisation_id, wave, team_id)}
    try:
        with db.begin_nested():
            db.add_all(DashboardSnapshot(study_id=study.id, wave_id=wave.id,
                                         organisation_id=organisation_id, view=view,
                                         published_at=now, figures=figures)
                       for view, figures in views.items())
    except IntegrityError:
        return False  # another publisher wrote this wave first; its snapshot stands
    return True


def publish_due(db: Session, now: dt.datetime, study_ids: list[int] | None = None) -> int:
    """Publish every closed, unpublished wave of every trust, in wave order; the number written."""
    query = select(Study)
    if study_ids is not None:
        query = query.where(Study.id.in_(study_ids))
    published = 0
    for study in db.scalars(query).all():
        done = {(wave_id, org_id) for wave_id, org_id in db.execute(
            select(DashboardSnapshot.wave_id, DashboardSnapshot.organisation_id)
            .where(DashboardSnapshot.study_id == study.id, DashboardSnapshot.view == TRUST_VIEW))}
        blocked: set[int] = set()  # trusts with an earlier wave still open
        for wave in study.waves:
            for organisation_id in sorted(_trusts_invited(db, wave)):
                if organisation_id in blocked or (wave.id, organisation_id) in done:
                    continue
                if _still_open(db, wave, organisation_id, now):
                    blocked.add(organisation_id)
                elif publish_wave(db, study, wave, organisation_id, now):
                    published += 1
    return published


def publish_all(sessions: sessionmaker[Session], now: dt.datetime) -> int:
    """The scheduler's `publish` step: publish what is due and commit."""
    with sessions() as db:
        count = publish_due(db, now)
        db.commit()
    return count
