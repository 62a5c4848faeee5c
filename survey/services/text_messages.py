"""Text messages: mobile numbers, which channels a participant gets, and stopping texts.

A mobile number is parsed with `phonenumbers` (UK numbers may be written without +44) and
stored in E.164 form. A participant's channel is email, sms or both; the default is email
when there is an address, sms when there is only a number. Replying STOP (Notify's inbound
callback) or the form on the personal link's page stops texts; email still goes to a
participant who has an address, and an SMS-only participant then gets nothing further.

Who commits: the caller (every function here works in the session it is given).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from survey.db import utcnow
from survey.models import Channel, Contact, Participant
from survey.services.audit import record_event
from survey.services.tokens import find_invitation

DEFAULT_REGION = "GB"
CHANNELS = tuple(channel.value for channel in Channel)
# Replies that mean "no more texts" (the words UK networks and Notify treat as opt-outs).
STOP_WORDS = frozenset({"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})


def parse_mobile(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """The number in E.164 form (+447700900123), or None if it is not a valid mobile number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    kind = phonenumbers.number_type(number)
    if kind not in (phonenumbers.PhoneNumberType.MOBILE,
                    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def default_channel(email: str | None, mobile: str | None) -> Channel:
    """Email when there is an address, SMS when there is only a number."""
    return Channel.EMAIL if email else Channel.SMS


def delivery_channels(
    email: str | None, mobile: str | None, channel: Channel, sms_opted_out: bool
) -> tuple[str, ...]:
    """The channels an invitation or reminder goes by now: ("email",), ("sms",), both or none.

    `email` and `mobile` are the working ones (None once a message to them failed for good):
    when the email of an email-only participant is dead, texts go to their mobile instead.
    """
    sms = bool(mobile) and (channel.uses_sms or not email) and not sms_opted_out
    # After a STOP, email still goes to a participant who has an address.
    send_email = bool(email) and (channel.uses_email or not sms)
    return tuple(name for name, on in (("email", send_email), ("sms", sms)) if on)


def channels_for(contact: Contact, participant: Participant) -> tuple[str, ...]:
    """The channels this participant's messages go by now (working addresses, STOP, choice)."""
    return delivery_channels(
        contact.email if contact.email_works else None,
        contact.mobile if contact.mobile_works else None,
        contact.channel, participant.sms_opted_out_at is not None,
    )


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


def is_stop(message: str) -> bool:
    """Whether an inbound text asks for no more texts ("Stop", " STOP ALL. ", ...)."""
    words = " ".join(message.strip().rstrip(".!").upper().split())
    return words in STOP_WORDS


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
