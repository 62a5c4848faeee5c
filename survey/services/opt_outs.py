"""Opting out of one channel: texts (a STOP reply, the link's page) and emails (List-Unsubscribe,
the link's page). Neither withdraws: the other channel, where there is one, still carries
invitations, and the link still works. Every opt-out is audited.

Who commits: the caller (every function here works in the session it is given).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from survey.db import utcnow
from survey.messaging.reach import parse_mobile
from survey.models import Contact, Participant
from survey.services.audit import record_event
from survey.services.tokens import find_invitation


def opt_out(
    db: Session, participant: Participant, source: str, now: dt.datetime | None = None
) -> bool:
    """Stop texts to this participant (audited); False if they had already stopped them."""
    if participant.sms_opted_out_at is not None:
        return False
    participant.sms_opted_out_at = now or utcnow()
    contact = participant.contact
    record_event(
        db, None, "participant.sms_opt_out", "participant", participant.code,
        {"source": source,
         "email_continues": bool(contact is not None and contact.email)},
        actor="respondent" if source == "link" else "sms",
    )
    return True


def opt_out_by_number(db: Session, sender: str, now: dt.datetime | None = None) -> int:
    """A STOP from this number: stop texts to every participant with it; how many stopped now."""
    number = parse_mobile(sender if sender.startswith(("+", "0"))
                          else f"+{sender}")
    if number is None:
        return 0
    stopped = 0
    for participant in db.scalars(
        select(Participant).join(Contact).where(Contact.mobile == number)
        .options(joinedload(Participant.contact))
    ):
        stopped += opt_out(db, participant, "reply", now)
    return stopped


def unreachable(participant_ids: list[int], db: Session) -> set[int]:
    """Of these participants, those no message can reach now (STOP and no working email,
    or every address failed for good): sent nothing."""
    if not participant_ids:
        return set()
    return set(db.scalars(
        select(Participant.id).where(Participant.id.in_(participant_ids), ~Participant.reachable)
    ))


@dataclass(frozen=True)
class TextsOnLink:
    """What the personal link's text message page shows."""

    has_mobile: bool  # texts could go to this participant (a number, channel sms or both)
    stopped_at: dt.datetime | None
    email_continues: bool
    just_stopped: bool


def texts_for_link(
    db: Session, token: str, *, stop: bool, now: dt.datetime | None = None
) -> TextsOnLink | None:
    """The text message state behind a personal link, stopping texts if asked (audited).

    Works with any link of a participant still taking part, even a closed one; None for an
    unknown link or a person who has left (the invalid-link page).
    """
    invitation = find_invitation(db, token)
    if invitation is None or not invitation.participant.is_active:
        return None
    participant = invitation.participant
    contact = participant.contact
    if contact is None:
        return None
    has_mobile = bool(contact.mobile) and contact.channel.uses_sms
    just_stopped = stop and has_mobile and opt_out(db, participant, "link", now)
    return TextsOnLink(has_mobile, participant.sms_opted_out_at, bool(contact.email), just_stopped)


@dataclass(frozen=True)
class EmailsOnLink:
    """What the personal link's email page shows."""

    has_email: bool  # emails could go to this participant (an address, channel email or both)
    stopped_at: dt.datetime | None
    texts_continue: bool
    just_stopped: bool


def opt_out_of_emails(
    db: Session, participant: Participant, source: str, now: dt.datetime | None = None
) -> bool:
    """Stop emails for this study to this participant (audited); False if already stopped."""
    if participant.email_opted_out_at is not None:
        return False
    participant.email_opted_out_at = now or utcnow()
    contact = participant.contact
    record_event(
        db, None, "participant.email_opt_out", "participant", participant.code,
        {"source": source,
         "texts_continue": bool(contact is not None and contact.mobile
                                and participant.sms_opted_out_at is None)},
        actor="respondent",
    )
    return True


def emails_for_link(
    db: Session, token: str, *, stop: bool, source: str = "link", now: dt.datetime | None = None
) -> EmailsOnLink | None:
    """The email state behind a personal link, stopping emails if asked (audited).

    `source` is "link" (the page's button) or "one-click" (a mail client's List-Unsubscribe
    POST). Works with any link of a participant still taking part; None for an unknown link or
    a person who has left.
    """
    invitation = find_invitation(db, token)
    if invitation is None or not invitation.participant.is_active:
        return None
    participant = invitation.participant
    contact = participant.contact
    if contact is None:
        return None
    has_email = bool(contact.email)
    just_stopped = stop and has_email and opt_out_of_emails(db, participant, source, now)
    texts_continue = bool(contact.mobile) and participant.sms_opted_out_at is None
    return EmailsOnLink(has_email, participant.email_opted_out_at, texts_continue, just_stopped)
