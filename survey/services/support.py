"""A study's support page: who to turn to if the questions bring up something difficult.

A study file may list its own contacts under `support` (each with words in every language
PeerPulse speaks); without them the page shows PeerPulse's default (Samaritans, in the
template). The page is reachable from any personal link of the study, whatever the link's
state (open, closed, completed, withdrawn): it shows nothing about the person and changes
nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from instruments.fields import FieldReader
from instruments.languages import LANGUAGES, SOURCE_LANGUAGE
from instruments.source import SourceMap
from survey.models import Invitation, LinkToken, Participant, Study
from survey.services.tokens import lookup_hash

SUPPORT_FIELDS = ("name", "text", "phone", "url")
MAX_CONTACTS = 8
_PHONE = re.compile(r"^\+?[0-9][0-9 ]{2,19}$")
_URL = re.compile(r"^https://[^\s<>\"']+$")


@dataclass(frozen=True)
class SupportContact:
    """One place to turn to, worded in one language."""

    name: str
    text: str
    phone: str | None = None
    url: str | None = None

    @property
    def phone_link(self) -> str | None:
        """The phone number as a tel: address (digits only), for a tap to call."""
        return None if self.phone is None else "tel:" + self.phone.replace(" ", "")


def _worded(reader: FieldReader, entry: SourceMap, key: str, label: str) -> dict[str, str] | None:
    """A text given in every language: {language: words}; None, with problems, otherwise."""
    value = entry.get(key)
    block = reader.mapping(value, entry.line_of(key) or entry.line, label,
                           f"{key} (one text per language: {', '.join(LANGUAGES)})")
    if block is None:
        return None
    reader.check_keys(block, tuple(LANGUAGES), f"{label} {key}")
    words: dict[str, str] = {}
    for language in LANGUAGES:
        text = reader.text(block, language, f"{label} {key}")
        if text is not None:
            words[language] = text
    return words if len(words) == len(LANGUAGES) else None


def read_support(reader: FieldReader, root: SourceMap) -> list[dict[str, Any]] | None:
    """The `support` contacts of a study file (None when it gives none); faults go to `reader`."""
    if root.get("support") is None:
        return None
    entries = reader.sequence(root, "support", None)
    if len(entries) > MAX_CONTACTS:
        reader.add(root.line_of("support"), None, "support",
                   f"list at most {MAX_CONTACTS} contacts, got {len(entries)}")
    contacts = []
    for position, raw in enumerate(entries, start=1):
        label = f"support contact {position}"
        entry = reader.mapping(raw, root.line_of("support"), label, "a support contact")
        if entry is None:
            continue
        reader.check_keys(entry, SUPPORT_FIELDS, label)
        name = _worded(reader, entry, "name", label)
        text = _worded(reader, entry, "text", label)
        phone = reader.text(entry, "phone", label, required=False)
        if phone is not None and not _PHONE.match(phone):
            reader.add(entry.line_of("phone"), label, "phone",
                       f"give the number as digits and spaces (e.g. 116 123), got {phone!r}")
        url = reader.text(entry, "url", label, required=False)
        if url is not None and not _URL.match(url):
            reader.add(entry.line_of("url"), label, "url",
                       f"give a full https:// address, got {url!r}")
        if name is not None and text is not None:
            contacts.append({"name": name, "text": text, "phone": phone, "url": url})
    return contacts


_STUDY_OF_LINK = (
    select(Study.support)
    .select_from(LinkToken)
    .join(Invitation, Invitation.id == LinkToken.invitation_id)
    .join(Participant, Participant.id == Invitation.participant_id)
    .join(Study, Study.id == Participant.study_id)
    .where(LinkToken.token_hash == bindparam("token_hash"))
)


def contacts(stored: list[dict[str, Any]] | None, language: str) -> list[SupportContact]:
    """A study's stored contacts worded in `language` (English where a text lacks it)."""
    def say(words: dict[str, str]) -> str:
        return words.get(language) or words[SOURCE_LANGUAGE]
    return [SupportContact(say(c["name"]), say(c["text"]), c.get("phone"), c.get("url"))
            for c in stored or []]


def support_for_link(db: Session, token: str, language: str) -> list[SupportContact] | None:
    """The support contacts of a link's study, in `language`, for a link in any state.

    An empty list: the study names none (the page shows the default). None: no such link.
    """
    token_hash = lookup_hash(token)
    if token_hash is None:
        return None
    row = db.execute(_STUDY_OF_LINK, {"token_hash": token_hash}).first()
    if row is None:
        return None
    return contacts(row[0], language)
