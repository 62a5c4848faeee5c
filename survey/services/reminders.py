"""Remind me later: from their link a respondent chooses when their next reminder comes.

They choose a day (tomorrow, in 3 days, in a week) and, if they like, an hour within the
study's sending hours; the time is moved to the next sending slot if it falls outside them
(a weekend of a weekdays-only study). It must fall before the window closes. The scheduler
(`invitations.queue_reminders`) sends that reminder once, then clears the request; scheduled
reminders that would have come before it are not sent. Audited without personal data.

Who commits: the caller.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel.dates import format_datetime
from sqlalchemy.orm import Session

from survey.db import utcnow
from survey.messaging.base import N_
from survey.models import Invitation
from survey.services import schedule
from survey.services.audit import record_event
from survey.services.errors import InputError
from survey.services.tokens import find_invitation

LATER_DAYS = (1, 3, 7)
# The requested reminder's time; the locale gives the weekday's and month's names.
WHEN_FORMAT = "EEEE d MMMM, HH:mm"


@dataclass(frozen=True)
class LaterOnLink:
    """What the personal link's "remind me later" page shows."""

    open: bool  # the invitation is open: there is something to remind about
    hours: tuple[int, ...]  # the hours a reminder may be asked for (the study's sending hours)
    hour_start: int
    hour_end: int
    remind_at: str | None  # the requested reminder's local time, in the person's language
    just_set: bool


def requested_time(rules: schedule.SendingRules, now: dt.datetime, days: int,
                   hour: int | None) -> dt.datetime:
    """The instant `days` local days from now, at `hour` (or the start of the sending hours),
    moved to the next sending slot if mail may not go out then (UTC)."""
    day = now.astimezone(rules.zone).date() + dt.timedelta(days=days)
    at = schedule.local_instant(rules.zone, day, rules.hour_start if hour is None else hour)
    return schedule.next_allowed(rules, at)


def later_for_link(
    db: Session, token: str, *, days: int | None = None, hour: int | None = None,
    now: dt.datetime | None = None,
) -> LaterOnLink | None:
    """The reminder state behind a personal link; with `days`, ask for a reminder then.

    None for an unknown link or a person who has left. Raises InputError (nothing written) for
    a day that is not offered, an hour outside the sending hours, or a time after the survey
    closes; its messages are catalogue ids (the page translates them).
    """
    now = now or utcnow()
    invitation = find_invitation(db, token)
    if invitation is None or not invitation.participant.is_active:
        return None
    rules = schedule.SendingRules.for_study(invitation.wave.study)
    hours = tuple(range(rules.hour_start, rules.hour_end))
    is_open = invitation.is_open and invitation.closes_at > now
    just_set = False
    if days is not None:
        if not is_open:
            raise InputError({"days": N_(
                "This survey is no longer open, so there is nothing to remind you about.")})
        if days not in LATER_DAYS:
            raise InputError({"days": N_("Choose when we should remind you.")})
        if hour is not None and hour not in hours:
            raise InputError({"hour": N_(
                "Choose a time when we send reminders.")})
        at = requested_time(rules, now, days, hour)
        if at >= invitation.closes_at:
            raise InputError({"days": N_(
                "The survey closes before then. Choose an earlier day.")})
        invitation.remind_at = at
        record_event(db, None, "invitation.remind_later", "invitation", invitation.id,
                     {"days": days, "hour": hour, "remind_at": at.isoformat()},
                     actor="respondent")
        just_set = True
    return LaterOnLink(is_open, hours, rules.hour_start, rules.hour_end,
                       _when(invitation, rules), just_set)


def _when(invitation: Invitation, rules: schedule.SendingRules) -> str | None:
    if invitation.remind_at is None:
        return None
    language = invitation.participant.language
    return format_datetime(invitation.remind_at, WHEN_FORMAT, tzinfo=rules.zone, locale=language)
