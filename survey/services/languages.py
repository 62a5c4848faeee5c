"""The language a personal link's pages are shown in: the participant's, which they may change.

A participant's language is set at enrolment (the study's default unless the file names one)
and by the switch on every respondent page; their emails follow it too. The caller commits.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from instruments.languages import LANGUAGES
from survey.models import Invitation, LinkToken, Participant
from survey.services.errors import InputError, Problem
from survey.services.tokens import lookup_hash

_LANGUAGE_OF_LINK = (
    select(Participant.language, Participant.id)
    .select_from(LinkToken)
    .join(Invitation, Invitation.id == LinkToken.invitation_id)
    .join(Participant, Participant.id == Invitation.participant_id)
    .where(LinkToken.token_hash == bindparam("token_hash"), Participant.is_active)
)


#: Where a session keeps the languages of the links it has read (a web request's session lives
#: as long as its request): survey.services.respondent.read_visit reads the language with the
#: rest of the link, so the page's language needs no second query.
_SEEN = "peerpulse_link_languages"


def remember_link_language(db: Session, token_hash: str, language: str) -> None:
    """Note the language of a link (of a participant still taking part) read by another query."""
    db.info.setdefault(_SEEN, {})[token_hash] = language


def _link(db: Session, token: str) -> tuple[str, int] | None:
    token_hash = lookup_hash(token)
    if token_hash is None:
        return None
    row = db.execute(_LANGUAGE_OF_LINK, {"token_hash": token_hash}).first()
    return None if row is None else (str(row[0]), int(row[1]))


def link_language(db: Session, token: str) -> str | None:
    """The language of a link's participant (still taking part); None for an unknown link."""
    token_hash = lookup_hash(token)
    if token_hash is None:
        return None
    seen = db.info.get(_SEEN, {}).get(token_hash)
    if seen is not None:
        return str(seen)
    found = _link(db, token)
    return None if found is None else found[0]


def set_link_language(db: Session, token: str, language: str) -> bool:
    """Change the language of a link's participant; False for an unknown link (nothing changes).

    InputError for a language PeerPulse does not support.
    """
    if language not in LANGUAGES:
        raise InputError([Problem("language", f"'{language}' is not a supported language; "
                                              f"use one of {', '.join(LANGUAGES)}")])
    found = _link(db, token)
    if found is None:
        return False
    if found[0] != language:
        db.execute(update(Participant).where(Participant.id == found[1]).values(language=language))
    token_hash = lookup_hash(token)
    if token_hash is not None:
        remember_link_language(db, token_hash, language)
    return True
