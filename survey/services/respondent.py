"""The respondent's path through a personal link: one call per action, and the caller commits.

`open_link` decides what a link may show (its lifecycle); `entry`, `show_page`, `save_page`,
`give_consent`, `withdraw` and `thanks` each do one action from a token and return either
what to show (a small view object) or a `Goto`: where the person belongs instead (consent,
a page, thanks, or the invalid-link page). Nothing here commits, and nothing knows of HTTP.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from instruments import Instrument, Page
from instruments.answers import AnswerValue
from survey.db import utcnow
from survey.models import Invitation, InvitationStatus, Study
from survey.services import responses
from survey.services.consent import needs_consent, record_consent
from survey.services.responses import Questionnaire, WaveScores
from survey.services.tokens import find_invitation
from survey.services.withdrawal import withdraw as withdraw_participant


class LinkState(enum.Enum):
    """What a personal link may show."""

    OPEN = "open"  # the questionnaire can be answered
    COMPLETED = "completed"  # the thank-you page
    CLOSED = "closed"  # expired or cancelled: 410
    UNKNOWN = "unknown"  # no such link, or nothing to show: 404


@dataclass(frozen=True)
class LinkView:
    """A resolved personal link."""

    token: str
    state: LinkState
    invitation: Invitation | None


def link_state(invitation: Invitation | None, now: dt.datetime) -> LinkState:
    """Open while sent/started and inside its window; withdrawn or declined people look unknown."""
    if invitation is None or not invitation.participant.is_active:
        return LinkState.UNKNOWN
    status = invitation.status
    if status == InvitationStatus.COMPLETED:
        return LinkState.COMPLETED
    if status in (InvitationStatus.EXPIRED, InvitationStatus.CANCELLED) or now >= invitation.closes_at:
        return LinkState.CLOSED
    if status in (InvitationStatus.SENT, InvitationStatus.STARTED) and invitation.opens_at <= now:
        return LinkState.OPEN
    return LinkState.UNKNOWN


def open_link(db: Session, token: str, now: dt.datetime | None = None) -> LinkView:
    """Look the token up by its hash (with participant, study and wave) and decide its state."""
    invitation = find_invitation(db, token)
    return LinkView(token, link_state(invitation, now or utcnow()), invitation)


class Where(enum.Enum):
    """Where a person belongs when the action asked for is not theirs to take now."""

    UNKNOWN_LINK = "unknown"  # the invalid-link page (404)
    CLOSED_LINK = "closed"  # the same page (410)
    ENTRY = "entry"  # the link itself, which sends them on
    CONSENT = "consent"
    PAGE = "page"
    THANKS = "thanks"


@dataclass(frozen=True)
class Goto:
    """Send the person elsewhere (`number` is the page, for Where.PAGE)."""

    where: Where
    number: int = 1


def _invalid(link: LinkView) -> Goto:
    """The invalid-link page, as 410 for a link that closed and 404 otherwise."""
    return Goto(Where.CLOSED_LINK if link.state == LinkState.CLOSED else Where.UNKNOWN_LINK)


def _open_invitation(
    db: Session, token: str, now: dt.datetime | None, consent_done: bool = True
) -> Invitation | Goto:
    """The open invitation of a token, or where to go instead: invalid link, thanks or consent."""
    link = open_link(db, token, now)
    if link.invitation is None or link.state in (LinkState.UNKNOWN, LinkState.CLOSED):
        return _invalid(link)
    if link.state == LinkState.COMPLETED:
        return Goto(Where.THANKS)
    if consent_done and needs_consent(link.invitation.participant):
        return Goto(Where.CONSENT)
    return link.invitation


def _reachable(plan: Questionnaire, response: responses.Response | None) -> int:
    """The last page that may be shown: the first unsaved one (the last once all are saved)."""
    return (plan.first_unsaved(response) if response is not None else 1) or plan.total


def entry(db: Session, token: str, now: dt.datetime | None = None) -> Goto:
    """Where the link leads: consent, the first page not saved yet, thanks, or nowhere."""
    invitation = _open_invitation(db, token, now)
    if isinstance(invitation, Goto):
        return invitation
    response = responses.find_response(db, invitation)
    return Goto(Where.PAGE, _reachable(responses.questionnaire(invitation, response), response))


@dataclass(frozen=True)
class PageView:
    """One questionnaire page with the answers already saved."""

    plan: Questionnaire
    page: Page
    number: int
    answers: dict[str, AnswerValue]


def _at_page(
    db: Session, token: str, number: int, now: dt.datetime | None
) -> tuple[Invitation, responses.Response | None, Questionnaire] | Goto:
    """The open invitation, its response (if started) and questionnaire, if page `number` is reachable.

    Pages after the first unsaved one are not reachable yet: elsewhere, say where to go instead.
    """
    invitation = _open_invitation(db, token, now)
    if isinstance(invitation, Goto):
        return invitation
    response = responses.find_response(db, invitation)
    plan = responses.questionnaire(invitation, response)
    reachable = _reachable(plan, response)
    if not 1 <= number <= reachable:
        return Goto(Where.PAGE, reachable)
    return invitation, response, plan


def show_page(db: Session, token: str, number: int, now: dt.datetime | None = None) -> PageView | Goto:
    """Page `number` with its saved answers; the first visit starts the response (a write).

    Pages after the first unsaved one are not reachable yet.
    """
    found = _at_page(db, token, number, now)
    if isinstance(found, Goto):
        return found
    invitation, response, plan = found
    if response is None:
        response = responses.start_or_resume(db, invitation, now)
    return PageView(plan, plan.page(number), number, responses.saved_answers(response))


# Reads a page's posted answers (the web layer validates its form); may stop the request.
AnswerReader = Callable[[Instrument, Page], Mapping[str, AnswerValue]]


def save_page(
    db: Session, token: str, number: int, read_answers: AnswerReader, now: dt.datetime | None = None
) -> Goto:
    """Store a page's answers (completing the response on the last page); where to go next.

    Raises InputError for an answer the page does not allow; nothing is stored then.
    """
    found = _at_page(db, token, number, now)
    if isinstance(found, Goto):
        return found
    invitation, _response, plan = found
    answers = read_answers(plan.instrument, plan.page(number))
    response = responses.start_or_resume(db, invitation, now)
    if not responses.save_page(db, response, plan, number, answers, now):
        return Goto(Where.THANKS)  # submitted meanwhile: nothing changed
    if number == plan.total:
        responses.complete(db, response, plan, now)
        return Goto(Where.THANKS)
    return Goto(Where.PAGE, number + 1)


@dataclass(frozen=True)
class ConsentView:
    """The consent question (`declined` once the person has said no)."""

    study: Study
    version: str
    declined: bool = False


def give_consent(
    db: Session, token: str, decision: bool | None, now: dt.datetime | None = None
) -> ConsentView | Goto:
    """Record a decision (None: none made yet, just show the question); declining is final."""
    invitation = _open_invitation(db, token, now, consent_done=False)
    if isinstance(invitation, Goto):
        return invitation
    participant = invitation.participant
    if not needs_consent(participant):
        return Goto(Where.ENTRY)
    version = participant.study.consent_version
    if decision is None:
        return ConsentView(participant.study, version)
    record_consent(db, participant, decision, version, now)
    return Goto(Where.ENTRY) if decision else ConsentView(participant.study, version, declined=True)


@dataclass(frozen=True)
class WithdrawView:
    """The withdrawal question (`back`: the link still leads to the questionnaire), or its result."""

    back: bool
    kept: bool | None = None  # None: not withdrawn yet


def withdraw(
    db: Session, token: str, keep: bool | None, now: dt.datetime | None = None
) -> WithdrawView | Goto:
    """Withdraw with any link of a participant still taking part, even a closed one.

    `keep` says whether the answers already given are kept; None only shows the question.
    """
    link = open_link(db, token, now)
    if link.invitation is None or not link.invitation.participant.is_active:
        return Goto(Where.UNKNOWN_LINK)
    if keep is None:
        return WithdrawView(back=link.state == LinkState.OPEN)
    withdraw_participant(db, link.invitation.participant, keep_data=keep, now=now)
    return WithdrawView(back=False, kept=keep)


@dataclass(frozen=True)
class ThanksView:
    """The thank-you page: the wave, and the person's own scores when the study shows them."""

    wave_label: str
    show_own_scores: bool
    instrument: Instrument | None
    scores: list[WaveScores]


def thanks(db: Session, token: str, now: dt.datetime | None = None) -> ThanksView | Goto:
    """Thank the person for a completed questionnaire; reloading it changes nothing."""
    link = open_link(db, token, now)
    invitation = link.invitation
    if link.state != LinkState.COMPLETED or invitation is None:
        return Goto(Where.ENTRY) if link.state == LinkState.OPEN else _invalid(link)
    participant = invitation.participant
    show = participant.study.show_own_scores
    response = responses.find_response(db, invitation)
    if not show or response is None:
        return ThanksView(invitation.wave.label, show, None, [])
    return ThanksView(invitation.wave.label, show, responses.pinned_instrument(response),
                      responses.own_scores(db, participant))
