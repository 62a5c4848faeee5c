"""Who can be reached, on which channel: mobile numbers, the channel rule, STOP replies.

A mobile number is parsed with `phonenumbers` (UK numbers may be written without +44) and
stored in E.164 form. A participant's channel is email, sms or both; the default is email
when there is an address, sms when there is only a number. A STOP (reply or link page) stops
texts; email still goes to a participant who has an address, and an SMS-only participant then
gets nothing further. "No more emails" (List-Unsubscribe) is the mirror image.

The one rule is `delivery_channels`; `Participant.reachable` is its SQL form (some channel is
left), used to skip people before anything is rendered. Pure: no session, no services.
"""

from __future__ import annotations

import phonenumbers

from survey.models import Channel, Contact, Participant

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
    email: str | None, mobile: str | None, channel: Channel, sms_opted_out: bool,
    email_opted_out: bool = False,
) -> tuple[Channel, ...]:
    """The channels an invitation or reminder goes by now: (EMAIL,), (SMS,), both or none.

    `email` and `mobile` are the working ones (None once a message to them failed for good):
    when the email of an email-only participant is dead, texts go to their mobile instead.
    An opt-out stops one channel: after a STOP email still goes to a participant who has an
    address, after "no more emails" texts still go to one who has a number.
    """
    email = None if email_opted_out else email
    mobile = None if sms_opted_out else mobile
    sms = bool(mobile) and (channel.uses_sms or not email)
    send_email = bool(email) and (channel.uses_email or not sms)
    return tuple(name for name, on in ((Channel.EMAIL, send_email), (Channel.SMS, sms)) if on)


def channels_for(contact: Contact, participant: Participant) -> tuple[Channel, ...]:
    """The channels this participant's messages go by now (working addresses, opt-outs, choice)."""
    return delivery_channels(
        contact.email if contact.email_works else None,
        contact.mobile if contact.mobile_works else None,
        contact.channel, participant.sms_opted_out_at is not None,
        participant.email_opted_out_at is not None,
    )


def is_stop(message: str) -> bool:
    """Whether an inbound text asks for no more texts ("Stop", " STOP ALL. ", ...)."""
    words = " ".join(message.strip().rstrip(".!").upper().split())
    return words in STOP_WORDS
