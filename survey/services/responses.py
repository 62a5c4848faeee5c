"""Responses: start or resume one pinned to its instrument, save its pages, complete it."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, cast

from sqlalchemy import CursorResult, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from instruments import Instrument, Page, load_instrument, score_scales
from instruments.answers import AnswerValue, problem
from instruments.conditions import shown_items
from instruments.model import NUMBER, step_id
from instruments.translations import localised
from survey.db import utcnow
from survey.models import (
    Answer,
    Invitation,
    InvitationStatus,
    Participant,
    Response,
    ScaleScore,
    Wave,
)
from survey.services.errors import InputError
from survey.services.instrument_versions import ensure_unchanged


class InstrumentChanged(RuntimeError):
    """The instrument file a response is pinned to no longer has the content it was started with."""


class Pinned(Protocol):
    """A started response as far as its questionnaire goes: its pin and the pages saved."""

    @property
    def id(self) -> int: ...
    @property
    def instrument_id(self) -> str: ...
    @property
    def instrument_version(self) -> int: ...
    @property
    def instrument_hash(self) -> str: ...
    @property
    def pages_saved(self) -> list[str] | None: ...


@dataclass(frozen=True)
class Questionnaire:
    """The pages one response asks, in order, from its pinned instrument."""

    instrument: Instrument
    pages: tuple[Page, ...]

    @property
    def total(self) -> int:
        """How many pages there are."""
        return len(self.pages)

    def page(self, number: int) -> Page:
        """Page `number`, counting from 1; IndexError outside 1..total."""
        if not 1 <= number <= self.total:
            raise IndexError(f"page {number} is not between 1 and {self.total}")
        return self.pages[number - 1]

    def first_unsaved(self, response: Pinned, shown: set[str] | None = None) -> int | None:
        """The number of the first page not saved yet, or None when every page is.

        With `shown` (the items asked, from `shown`), pages with nothing asked are passed over.
        """
        saved = set(response.pages_saved or [])
        for number, page in enumerate(self.pages, start=1):
            if not _done(page, saved, shown) and (shown is None or self.page_shown(number, shown)):
                return number
        return None

    def one_per_page(self) -> Questionnaire:
        """The same questions, each a step of its own (one question per page)."""
        return one_question_per_page(self)

    def number_of(self, page_id: str) -> int | None:
        """The number of the first page (or step) that is, or is part of, page `page_id`."""
        return next((n for n, page in enumerate(self.pages, start=1)
                     if page.id == page_id or page.part_of == page_id), None)

    def asked_item_ids(self) -> set[str]:
        """Ids of every item on these pages."""
        return {item.id for page in self.pages for item in page.items}

    def shown(self, answers: Mapping[str, AnswerValue], role: str | None) -> set[str]:
        """Ids of the items asked given these answers and the participant's role."""
        return shown_items((item for page in self.pages for item in page.items), answers, role)

    def page_shown(self, number: int, shown: set[str]) -> bool:
        """Whether page `number` asks anything (a page whose items are all hidden is skipped)."""
        return any(item.id in shown for item in self.page(number).items)

    def next_page(self, number: int, shown: set[str]) -> int | None:
        """The first page after `number` that asks something, or None."""
        return next((n for n in range(number + 1, self.total + 1) if self.page_shown(n, shown)),
                    None)

    def previous_page(self, number: int, shown: set[str]) -> int | None:
        """The last page before `number` that asks something, or None."""
        return next((n for n in range(number - 1, 0, -1) if self.page_shown(n, shown)), None)


def _done(page: Page, saved: set[str], shown: set[str] | None) -> bool:
    """Whether a page (or step) is saved, in either mode: a step is saved with its whole page,
    and a page once each of its questions asked was saved as a step."""
    if page.id in saved or (page.part_of is not None and page.part_of in saved):
        return True
    if page.part_of is not None:
        return False
    asked = [item for item in page.items if shown is None or item.id in shown]
    return bool(asked) and all(step_id(page.id, item.id) in saved for item in asked)


@lru_cache(maxsize=64)
def one_question_per_page(plan: Questionnaire) -> Questionnaire:
    """`plan` with every question a step of its own, titled and introduced as its page."""
    steps = tuple(
        Page(step_id(page.id, item.id), page.title, page.intro, (item,), part_of=page.id)
        for page in plan.pages for item in page.items
    )
    return Questionnaire(plan.instrument, steps)


def assigned_instrument(invitation: Invitation) -> Instrument:
    """The instrument the study gives to this participant's role."""
    participant = invitation.participant
    assignment = participant.study.instrument_for(participant.role)
    if assignment is None:
        raise LookupError(
            f"study {participant.study.code!r} has no instrument for the role "
            f"{participant.role.value!r}; add one to the study's instruments"
        )
    return load_instrument(assignment.instrument_id, assignment.instrument_version)


def pinned_instrument(response: Pinned) -> Instrument:
    """The instrument a response was started with; InstrumentChanged if its file was edited."""
    instrument = load_instrument(response.instrument_id, response.instrument_version)
    if instrument.content_hash != response.instrument_hash:
        raise InstrumentChanged(
            f"{instrument.key} changed after response {response.id} started on it "
            f"(hash {response.instrument_hash[:12]} now {instrument.content_hash[:12]}); "
            "restore the file and put changes in a new version"
        )
    return instrument


def questionnaire(invitation: Invitation, response: Response | None = None) -> Questionnaire:
    """The pages an invitation asks (the response's pinned instrument once started).

    Baseline-only items appear only at the first wave.
    """
    if response is not None:
        return pinned_questionnaire(response, invitation.wave.is_baseline)
    return _questionnaire(assigned_instrument(invitation), invitation.wave.is_baseline)


def pinned_questionnaire(response: Pinned, first_wave: bool) -> Questionnaire:
    """The pages of a started response's pinned instrument (baseline-only items at wave 1),
    randomised pages in the order drawn for it."""
    plan = _questionnaire(pinned_instrument(response), first_wave)
    order = getattr(response, "item_order", None)
    if not order:
        return plan
    return ordered(plan, tuple((page, tuple(ids)) for page, ids in sorted(order.items())))


@lru_cache(maxsize=256)
def ordered(plan: Questionnaire, order: tuple[tuple[str, tuple[str, ...]], ...]) -> Questionnaire:
    """The same pages with each randomised page's items in a response's stored order."""
    by_page = dict(order)
    pages = []
    for page in plan.pages:
        ids = by_page.get(page.id)
        if ids is None or set(ids) != {item.id for item in page.items}:
            pages.append(page)  # not shuffled (or at another wave: the items differ)
            continue
        items = {item.id: item for item in page.items}
        pages.append(Page(page.id, page.title, page.intro, tuple(items[i] for i in ids),
                          page.randomise))
    return Questionnaire(plan.instrument, tuple(pages))


def draw_order(instrument: Instrument) -> tuple[int | None, dict[str, list[str]]]:
    """A new response's seed and the order it gives each randomised page (none: no seed)."""
    pages = [page for page in instrument.pages(first_wave=True) if page.randomise]
    if not pages:
        return None, {}
    seed = secrets.randbelow(2**31)
    shuffler = random.Random(seed)  # an order, not a secret  # nosec B311
    order = {}
    for page in pages:
        ids = [item.id for item in page.items]
        shuffler.shuffle(ids)
        order[page.id] = ids
    return seed, order


@lru_cache(maxsize=64)
def in_language(plan: Questionnaire, language: str) -> Questionnaire:
    """The same pages, items and order, worded in `language` (as they are if it has no texts)."""
    worded = localised(plan.instrument, language)
    if worded is plan.instrument:
        return plan
    return Questionnaire(worded, tuple(worded_page(worded, page) for page in plan.pages))


def worded_page(worded: Instrument, page: Page) -> Page:
    """`page` (same id and items) with the title, intro and items of `worded` (a localised copy)."""
    spec_id = page.part_of or page.id  # a step is worded as its page
    spec = next(p for p in worded.pages(first_wave=True) if p.id == spec_id)
    return Page(page.id, spec.title, spec.intro, tuple(worded.item(item.id) for item in page.items),
                page.randomise, page.part_of)


@lru_cache(maxsize=64)
def _questionnaire(instrument: Instrument, first_wave: bool) -> Questionnaire:
    """The pages of an instrument at a wave, worked out once per instrument version."""
    return Questionnaire(instrument, tuple(instrument.pages(first_wave)))


# Built once: its cache key is then computed once, not on every request.
_WITH_ANSWERS = (
    select(Response)
    .where(Response.invitation_id == bindparam("invitation_id"))
    .options(joinedload(Response.answers))
)


def find_response(db: Session, invitation: Invitation) -> Response | None:
    """The invitation's response, if one was started, with its answers (in one query)."""
    return db.scalars(_WITH_ANSWERS, {"invitation_id": invitation.id}).unique().first()


def start_or_resume(
    db: Session, invitation: Invitation, now: dt.datetime | None = None
) -> Response:
    """The invitation's response, created (pinned to its instrument) on the first visit.

    The first statement is a write (sent -> started), which takes the row or database lock
    before anything is read, so simultaneous first visits queue instead of colliding.
    """
    db.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.status == InvitationStatus.SENT)
        .values(status=InvitationStatus.STARTED)
    )
    existing = find_response(db, invitation)
    if existing is not None:
        return existing
    instrument = assigned_instrument(invitation)
    # A version other people answered with different wording is frozen: refuse, never mix.
    ensure_unchanged(db, instrument)
    seed, order = draw_order(instrument)
    response = Response(
        order_seed=seed,
        item_order=order,
        invitation_id=invitation.id,
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        instrument_hash=instrument.content_hash,
        language=invitation.participant.language,
        started_at=now or utcnow(),
        updated_at=now or utcnow(),
        pages_saved=[],
    )
    try:
        with db.begin_nested():
            db.add(response)
    except IntegrityError:
        # Another request started it a moment ago: there is only ever one.
        existing = find_response(db, invitation)
        if existing is None:
            raise
        return existing
    return response


def saved_answers(response: Response) -> dict[str, AnswerValue]:
    """The answers stored so far, by item id (None means "does not apply").

    Likert and choice answers are ints, number answers floats, free text str.
    """
    return {answer.item_id: answer.stored for answer in response.answers}


def check_page_answers(
    instrument: Instrument, page: Page, answers: Mapping[str, AnswerValue]
) -> None:
    """Raise InputError unless every answer names an item of the page with an allowed value."""
    on_page = {item.id: item for item in page.items}
    for item_id, value in answers.items():
        if item_id not in on_page:
            raise InputError({item_id: f"item {item_id!r} is not on page {page.id!r}"})
        wrong = problem(instrument, on_page[item_id], value)
        if wrong is not None:
            raise InputError({item_id: wrong})


def _claim_unsubmitted(db: Session, response: Response, now: dt.datetime, **values: object) -> bool:
    """Write to the response row only while it is unsubmitted; this also locks the row."""
    result = cast(
        CursorResult[object],
        db.execute(
            update(Response)
            .where(Response.id == response.id, Response.submitted_at.is_(None))
            .values(updated_at=now, **values)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount == 0:
        return False
    db.expire(response)
    return True


def save_page(
    db: Session,
    response: Response,
    plan: Questionnaire,
    number: int,
    answers: Mapping[str, AnswerValue],
    now: dt.datetime | None = None,
    role: str | None = None,
    revision: int | None = None,
) -> bool:
    """Store a page's answers exactly as given (items left out are unanswered); idempotent.

    An answer posted for a question its condition hides is discarded, and an answer to any
    question that an answer changed here now hides is removed (it is "not asked"). `role`
    is the participant's, for conditions on it. Returns False, changing nothing, when the
    response was already submitted.

    `revision` is the page's revision the form was shown at (`page_revision`): older than the
    stored one, the post is a copy sent again or one overtaken by a newer save, and changes
    nothing (True is returned: the person goes on as if it was saved). None stores always.
    """
    now = now or utcnow()
    page = plan.page(number)
    check_page_answers(plan.instrument, page, answers)
    if not _claim_unsubmitted(db, response, now):
        return False
    # Read after the claim, which locks the row: two posts of one revision queue here.
    current = page_revision(response, page.id)
    if revision is not None and revision < current:
        return True
    response.page_revisions = {**(response.page_revisions or {}), page.id: current + 1}
    on_page = {item.id for item in page.items}
    earlier = {k: v for k, v in saved_answers(response).items() if k not in on_page}
    shown = plan.shown({**earlier, **answers}, role)
    answers = {k: v for k, v in answers.items() if k in shown}
    stored = {a.item_id: a for a in response.answers if a.item_id in on_page}
    for item in page.items:
        if item.id in answers:
            value = answers[item.id]
            if item.type == NUMBER and isinstance(value, int):
                value = float(value)  # number answers live in the number column
            row = stored.get(item.id)
            if row is None:
                row = Answer(item_id=item.id, answered_at=now)
                row.store(value)
                response.answers.append(row)
            elif row.stored != value or type(row.stored) is not type(value):
                row.store(value)
                row.answered_at = now
        elif item.id in stored:
            # The page is stored as sent: an item left blank (or hidden) has no answer.
            response.answers.remove(stored[item.id])
    asked = plan.asked_item_ids()
    for row in [a for a in response.answers if a.item_id in asked and a.item_id not in shown]:
        response.answers.remove(row)  # hidden now by an answer changed on this page
    if page.id not in response.pages_saved:
        response.pages_saved = [*response.pages_saved, page.id]
    db.flush()
    return True


def page_revision(response: Pinned, page_id: str) -> int:
    """How many times a page of a response was saved (its form carries this as its revision)."""
    return int((getattr(response, "page_revisions", None) or {}).get(page_id, 0))


def complete(
    db: Session, response: Response, plan: Questionnaire, now: dt.datetime | None = None,
    role: str | None = None,
) -> bool:
    """Submit: write scale scores and mark the invitation completed; a second call is a no-op.

    Items their conditions hide are recorded in `items_not_asked` and are never scored (nor
    counted against a scale's `min_answered`). Raises ValueError if a page that asks
    something has not been saved yet. The caller commits (one transaction).
    """
    now = now or utcnow()
    saved = saved_answers(response)
    shown = plan.shown(saved, role)
    missing = plan.first_unsaved(response, shown)
    if missing is not None:
        raise ValueError(f"page {missing} of response {response.id} has not been saved")
    asked = plan.asked_item_ids()
    not_asked = sorted(asked - shown)
    if not _claim_unsubmitted(db, response, now, submitted_at=now, items_not_asked=not_asked):
        return False
    answers = {k: v for k, v in saved.items() if k in shown}
    asked_scales = {plan.instrument.item(item_id).scale for item_id in asked}
    scores = score_scales(plan.instrument, answers, not_asked=set(not_asked))
    for scale_id, result in scores.items():
        if scale_id in asked_scales:
            db.add(
                ScaleScore(
                    response_id=response.id, scale=scale_id, score=result.score,
                    items_answered=result.items_answered,
                )
            )
    db.execute(
        update(Invitation)
        .where(Invitation.id == response.invitation_id)
        .values(status=InvitationStatus.COMPLETED, completed_at=now)
    )
    db.flush()
    db.expire(response.invitation)
    return True


@dataclass(frozen=True)
class WaveScores:
    """One completed wave's scale scores for one participant."""

    wave_index: int
    wave_label: str
    scores: dict[str, float | None]


def own_scores(db: Session, participant: Participant, up_to: int | None = None
               ) -> list[WaveScores]:
    """A participant's scale scores for each wave they completed, earliest first.

    `up_to` (a wave index) stops at that wave: a link to an earlier wave shows only what was
    known at that wave, never scores given later through newer links.
    """
    query = (
        select(Wave.index, Wave.label, ScaleScore.scale, ScaleScore.score)
        .join(Invitation, Invitation.wave_id == Wave.id)
        .join(Response, Response.invitation_id == Invitation.id)
        .join(ScaleScore, ScaleScore.response_id == Response.id)
        .where(Invitation.participant_id == participant.id, Response.is_submitted)
        .order_by(Wave.index, ScaleScore.scale)
    )
    if up_to is not None:
        query = query.where(Wave.index <= up_to)
    rows = db.execute(query).all()
    waves: dict[int, WaveScores] = {}
    for index, label, scale, score in rows:
        waves.setdefault(index, WaveScores(index, label, {})).scores[scale] = score
    return list(waves.values())
