"""How a person likes their survey pages: one question per page, larger text.

Chosen on any respondent page and stored with the participant (not in a cookie), so it holds
for every link of theirs and on every device. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from survey.models import Invitation, LinkToken, Participant
from survey.services.tokens import lookup_hash


@dataclass(frozen=True)
class Display:
    """A person's display choices (both off unless they choose)."""

    one_question: bool = False
    larger_text: bool = False


_DISPLAY_OF_LINK = (
    select(Participant.one_question, Participant.larger_text, Participant.id)
    .select_from(LinkToken)
    .join(Invitation, Invitation.id == LinkToken.invitation_id)
    .join(Participant, Participant.id == Invitation.participant_id)
    .where(LinkToken.token_hash == bindparam("token_hash"), Participant.is_active)
)

#: Where a session keeps the display choices of the links it has read (as
#: survey.services.languages does for their languages): a survey page reads them with the rest
#: of the link in survey.services.respondent.read_visit, so they need no second query.
_SEEN = "peerpulse_link_display"


def remember_display(db: Session, token_hash: str, display: Display) -> None:
    """Note the display choices of a link (of a participant still taking part)."""
    db.info.setdefault(_SEEN, {})[token_hash] = display


def link_display(db: Session, token: str) -> Display | None:
    """The display choices of a link's participant (still taking part); None: unknown link."""
    token_hash = lookup_hash(token)
    if token_hash is None:
        return None
    seen = db.info.get(_SEEN, {}).get(token_hash)
    if seen is not None:
        return seen
    row = db.execute(_DISPLAY_OF_LINK, {"token_hash": token_hash}).first()
    if row is None:
        return None
    display = Display(bool(row[0]), bool(row[1]))
    remember_display(db, token_hash, display)
    return display


def set_display(db: Session, token: str, display: Display) -> Display | None:
    """Store a link's participant's display choices; the ones before (None: unknown link)."""
    token_hash = lookup_hash(token)
    if token_hash is None:
        return None
    row = db.execute(_DISPLAY_OF_LINK, {"token_hash": token_hash}).first()
    if row is None:
        return None
    db.execute(update(Participant).where(Participant.id == row[2]).values(
        one_question=display.one_question, larger_text=display.larger_text))
    remember_display(db, token_hash, display)
    return Display(bool(row[0]), bool(row[1]))
