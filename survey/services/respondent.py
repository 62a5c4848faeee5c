"""The respondent's path through a personal link: one call per action, and the caller commits.

`open_link` decides what a link may show (its lifecycle); `entry`, `show_page`, `save_page`,
`give_consent`, `withdraw` and `thanks` each do one action from a token and return either
what to show (a small view object) or a `Goto`: where the person belongs instead (consent,
a page, thanks, or the invalid-link page). Nothing here commits, and nothing knows of HTTP.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from instruments import Instrument, Page
from instruments.answers import AnswerValue
from survey.db import utcnow
from survey.models import Answer, Invitation, InvitationStatus, LinkToken, Participant, Response, Study, Wave
from survey.services import languages, preferences, responses
from survey.services.consent import consent_is_current, record_consent
from survey.services.preferences import Display
from survey.services.responses import Questionnaire, WaveScores
from survey.services.tokens import lookup_hash
from survey.services.withdrawal import withdraw as withdraw_participant


class LinkState(enum.Enum):
    """What a personal link may show."""

    OPEN = "open"  # the questionnaire can be answered
    COMPLETED = "completed"  # the thank-you page
    CLOSED = "closed"  # expired or cancelled: 410
    UNKNOWN = "unknown"  # no such link, or nothing to show: 404


@dataclass(frozen=True)
class StartedResponse:
    """A started response as a page needs it: what it is pinned to, its saved pages and answers."""

    id: int
    instrument_id: str
    instrument_version: int
    instrument_hash: str
    pages_saved: list[str] | None
    answers: dict[str, AnswerValue]
    item_order: dict[str, list[str]] | None = None
    page_revisions: dict[str, int] | None = None  # {page id: times saved}


@dataclass(frozen=True)
class Visit:
    """A personal link as every respondent page first needs it, read in one query.

    Plain columns, not ORM objects: a survey page is the hottest path and is mostly a read.
    An action that writes loads the ORM invitation with `Visit.invitation`.
    """

    invitation_id: int
    status: InvitationStatus
    opens_at: dt.datetime
    closes_at: dt.datetime
    participant_active: bool
    consent_current: bool
    first_wave: bool
    wave_label: str
    show_own_scores: bool
    response: StartedResponse | None
    language: str = "en"  # the participant's (survey.services.languages)
    role: str | None = None  # the participant's, for conditions on it
    one_question: bool = False  # the participant's choice: one question per page

    def shown(self, plan: Questionnaire) -> set[str]:
        """The items asked given the answers saved so far (all conditions decided by them)."""
        return plan.shown(self.response.answers if self.response else {}, self.role)

    def invitation(self, db: Session) -> Invitation:
        """The ORM invitation, with its participant, study and wave (for an action that writes)."""
        invitation = db.get(Invitation, self.invitation_id, options=_INVITATION_GRAPH)
        if invitation is None:  # deleted since the visit was read
            raise LookupError(f"invitation {self.invitation_id} no longer exists")
        return invitation


_INVITATION_GRAPH = (
    joinedload(Invitation.participant, innerjoin=True).joinedload(Participant.study, innerjoin=True),
    joinedload(Invitation.wave, innerjoin=True),
)

# Built once: its cache key is then computed once, not on every request. One row per saved
# answer (or one row with no answer): the link, its participant, study, wave and response.
_VISIT = (
    select(
        Invitation.id, Invitation.status, Invitation.opens_at, Invitation.closes_at,
        Participant.is_active, Participant.consent_decision, Participant.consent_version,
        Study.consent_version, Study.show_own_scores, Wave.is_baseline, Wave.label,
        Response.id, Response.instrument_id, Response.instrument_version, Response.instrument_hash,
        Response.pages_saved, Answer.item_id.label("answer_item"), Answer.value.label("answer_value"),
        Answer.value_number, Answer.value_text, Participant.language, Participant.role,
        Response.item_order, Participant.one_question, Participant.larger_text,
        Response.page_revisions,
    )
    .select_from(LinkToken)
    .join(Invitation, Invitation.id == LinkToken.invitation_id)
    .join(Participant, Participant.id == Invitation.participant_id)
    .join(Study, Study.id == Participant.study_id)
    .join(Wave, Wave.id == Invitation.wave_id)
    .outerjoin(Response, Response.invitation_id == Invitation.id)
    .outerjoin(Answer, Answer.response_id == Response.id)
    .where(LinkToken.token_hash == bindparam("token_hash"))
)


def read_visit(db: Session, token: str) -> Visit | None:
    """The link a token belongs to, by hash; None for anything unknown or malformed."""
    token_hash = lookup_hash(token)
    if token_hash is None:
        return None
    # Through the connection: a plain Core read needs none of the ORM's execution machinery
    # (flushed first, as the session's own execute would, so pending changes are seen).
    db.flush()
    rows = db.connection().execute(_VISIT, {"token_hash": token_hash}).all()
    if not rows:
        return None
    (invitation_id, status, opens_at, closes_at, active, decision, given_version, study_version,
     show_own_scores, first_wave, wave_label, response_id, instrument_id, instrument_version,
     instrument_hash, pages_saved, *_answer, language, role, item_order, one_question,
     larger_text, revisions) = rows[0]
    response = None
    if response_id is not None:
        answers: dict[str, AnswerValue] = {
            str(row.answer_item): Answer.from_columns(row.answer_value, row.value_number, row.value_text)
            for row in rows if row.answer_item is not None
        }
        response = StartedResponse(response_id, instrument_id, instrument_version, instrument_hash,
                                   pages_saved, answers, item_order, revisions)
    if active:  # the page's language then needs no query of its own
        languages.remember_link_language(db, token_hash, str(language))
        preferences.remember_display(db, token_hash, Display(bool(one_question), bool(larger_text)))
    return Visit(
        invitation_id, status, opens_at, closes_at, bool(active),
        consent_is_current(decision, given_version, study_version), bool(first_wave),
        wave_label, show_own_scores, response, str(language), str(getattr(role, "value", role)),
        bool(one_question),
    )


@dataclass(frozen=True)
class LinkView:
    """A resolved personal link."""

    token: str
    state: LinkState
    visit: Visit | None


def link_state(visit: Visit | None, now: dt.datetime) -> LinkState:
    """Open while sent/started and inside its window; withdrawn or declined people look unknown."""
    if visit is None or not visit.participant_active:
        return LinkState.UNKNOWN
    status = visit.status
    if status == InvitationStatus.COMPLETED:
        return LinkState.COMPLETED
    if status in (InvitationStatus.EXPIRED, InvitationStatus.CANCELLED) or now >= visit.closes_at:
        return LinkState.CLOSED
    if status in Invitation.OPEN_STATES and visit.opens_at <= now:
        return LinkState.OPEN
    return LinkState.UNKNOWN


def open_link(db: Session, token: str, now: dt.datetime | None = None) -> LinkView:
    """Look the token up by its hash and decide its state."""
    visit = read_visit(db, token)
    return LinkView(token, link_state(visit, now or utcnow()), visit)


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


def _open_visit(
    db: Session, token: str, now: dt.datetime | None, consent_done: bool = True
) -> Visit | Goto:
    """The visit of an open link, or where to go instead: invalid link, thanks or consent."""
    link = open_link(db, token, now)
    if link.visit is None or link.state in (LinkState.UNKNOWN, LinkState.CLOSED):
        return _invalid(link)
    if link.state == LinkState.COMPLETED:
        return Goto(Where.THANKS)
    if consent_done and not link.visit.consent_current:
        return Goto(Where.CONSENT)
    return link.visit


def _plan(db: Session, visit: Visit) -> Questionnaire:
    """The pages the visit's response asks: pinned once started, else the study's assignment;
    each question a step of its own when the person chose one question per page."""
    if visit.response is not None:
        plan = responses.pinned_questionnaire(visit.response, visit.first_wave)
    else:
        plan = responses.questionnaire(visit.invitation(db))
    return plan.one_per_page() if visit.one_question else plan


def _reachable(plan: Questionnaire, visit: Visit) -> int:
    """The last page that may be shown: the first unsaved one that asks something (the last
    such page once all are saved)."""
    shown = visit.shown(plan)
    first = plan.next_page(0, shown) or 1
    if visit.response is None:
        return first
    return plan.first_unsaved(visit.response, shown) or plan.previous_page(plan.total + 1, shown) \
        or first


def entry(db: Session, token: str, now: dt.datetime | None = None) -> Goto:
    """Where the link leads: consent, the first page not saved yet, thanks, or nowhere."""
    visit = _open_visit(db, token, now)
    if isinstance(visit, Goto):
        return visit
    return Goto(Where.PAGE, _reachable(_plan(db, visit), visit))


@dataclass(frozen=True)
class PageView:
    """One questionnaire page with the answers already saved."""

    plan: Questionnaire
    page: Page
    number: int
    answers: dict[str, AnswerValue]
    role: str | None = None
    back: int | None = None  # the page before that asks something
    revisions: Mapping[str, int] | None = None  # {page id: times saved}, for the page forms

    def revision(self, number: int) -> int:
        """The revision page `number` is shown at: the form carries it back when saved."""
        return int((self.revisions or {}).get(self.plan.page(number).id, 0))



def _at_page(
    db: Session, token: str, number: int, now: dt.datetime | None
) -> tuple[Visit, Questionnaire] | Goto:
    """The open link's visit and questionnaire, if page `number` is reachable.

    Pages after the first unsaved one are not reachable yet: elsewhere, say where to go instead.
    """
    visit = _open_visit(db, token, now)
    if isinstance(visit, Goto):
        return visit
    plan = _plan(db, visit)
    reachable = _reachable(plan, visit)
    if not 1 <= number <= reachable:
        return Goto(Where.PAGE, reachable)
    if not plan.page_shown(number, visit.shown(plan)):  # its condition hides it: go on
        return Goto(Where.PAGE, plan.next_page(number, visit.shown(plan)) or reachable)
    return visit, plan


def show_page(db: Session, token: str, number: int, now: dt.datetime | None = None) -> PageView | Goto:
    """Page `number` with its saved answers; the first visit starts the response (a write).

    Pages after the first unsaved one are not reachable yet. Showing a started response's page
    is one query.
    """
    found = _at_page(db, token, number, now)
    if isinstance(found, Goto):
        return found
    visit, plan = found
    back = plan.previous_page(number, visit.shown(plan))
    if visit.response is not None:
        return PageView(plan, plan.page(number), number, visit.response.answers, visit.role, back,
                        visit.response.page_revisions)
    response = responses.start_or_resume(db, visit.invitation(db), now)
    plan = responses.pinned_questionnaire(response, visit.first_wave)  # its order, if drawn
    plan = plan.one_per_page() if visit.one_question else plan
    return PageView(plan, plan.page(number), number, responses.saved_answers(response),
                    visit.role, back, response.page_revisions)


# Reads a page's posted answers (the web layer validates its form); may stop the request.
AnswerReader = Callable[[Instrument, Page], Mapping[str, AnswerValue]]


def save_page(
    db: Session, token: str, number: int, read_answers: AnswerReader,
    now: dt.datetime | None = None, revision: int | None = None,
) -> Goto:
    """Store a page's answers (completing the response on the last page); where to go next.

    `revision` is the one the page form was shown at: a post of an older one (sent twice, or
    overtaken by a newer save) changes nothing and goes on as if saved.
    Raises InputError for an answer the page does not allow; nothing is stored then.
    """
    found = _at_page(db, token, number, now)
    if isinstance(found, Goto):
        return found
    visit, plan = found
    answers = read_answers(plan.instrument, plan.page(number))
    invitation = visit.invitation(db)
    response = responses.start_or_resume(db, invitation, now)
    if not responses.save_page(db, response, plan, number, answers, now, visit.role, revision):
        return Goto(Where.THANKS)  # submitted meanwhile: nothing changed
    response.language = invitation.participant.language  # the language of the latest page saved
    shown = plan.shown(responses.saved_answers(response), visit.role)
    following = plan.next_page(number, shown)
    if following is None:
        unsaved = plan.first_unsaved(response, shown)
        if unsaved is not None:
            return Goto(Where.PAGE, unsaved)
        responses.complete(db, response, plan, now, visit.role)
        return Goto(Where.THANKS)
    return Goto(Where.PAGE, following)


def same_place(db: Session, token: str, number: int, was_one_question: bool,
               now: dt.datetime | None = None) -> Goto:
    """Where page (or step) `number` of the other display mode is now, after a switch of mode:
    a page's first question, or the page a question is on (the link itself, for any other)."""
    visit = _open_visit(db, token, now)
    if isinstance(visit, Goto):
        return visit
    now_plan = _plan(db, visit)
    base = _plan(db, dataclasses.replace(visit, one_question=False))
    before = base.one_per_page() if was_one_question else base
    if not 1 <= number <= before.total:
        return Goto(Where.ENTRY)
    page = before.page(number)
    found = now_plan.number_of(page.part_of or page.id)
    return Goto(Where.PAGE, found) if found is not None else Goto(Where.ENTRY)


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
    visit = _open_visit(db, token, now, consent_done=False)
    if isinstance(visit, Goto):
        return visit
    if visit.consent_current:
        return Goto(Where.ENTRY)
    participant = visit.invitation(db).participant
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
    if link.visit is None or not link.visit.participant_active:
        return Goto(Where.UNKNOWN_LINK)
    if keep is None:
        return WithdrawView(back=link.state == LinkState.OPEN)
    withdraw_participant(db, link.visit.invitation(db).participant, keep_data=keep, now=now)
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
    visit = link.visit
    if link.state != LinkState.COMPLETED or visit is None:
        return Goto(Where.ENTRY) if link.state == LinkState.OPEN else _invalid(link)
    show = visit.show_own_scores
    if not show or visit.response is None:
        return ThanksView(visit.wave_label, show, None, [])
    invitation = visit.invitation(db)
    return ThanksView(visit.wave_label, show, responses.pinned_instrument(visit.response),
                      responses.own_scores(db, invitation.participant, up_to=invitation.wave.index))
