"""Compose: turn one invitation's invitation or reminder into outbox messages, one a channel.

Called by the invitation steps (services.invitations) inside the transaction that changes the
invitation's state, so the state change and its messages are committed together or not at
all. The dedupe_key makes a second copy impossible: a text's key is the email's with "sms:" in
front. It renders through the channels it is given and takes the links from `issue_links`,
called only when some message goes (each call issues a fresh personal link).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from survey.messaging.base import Links, MessageChannel, MessageContext
from survey.messaging.reach import channels_for
from survey.models import Channel, Invitation, OutboxMessage


def dedupe_key_for(medium: Channel, key: str) -> str:
    """The outbox key of one medium's copy of a message ("invite:42", "sms:invite:42")."""
    return key if medium is Channel.EMAIL else f"{medium.value}:{key}"


def compose(
    db: Session, invitation: Invitation, kind: str, dedupe_key: str, now: dt.datetime, *,
    channels: Mapping[Channel, MessageChannel], issue_links: Callable[[Invitation], Links],
    send_at: dt.datetime | None = None, only: Channel | None = None,
) -> tuple[Channel, ...]:
    """Queue the invitation's email and/or text (added to the session); the channels used.

    `only` keeps one channel (a resend after a failure), `send_at` delays it.
    """
    participant = invitation.participant
    contact = participant.contact
    if contact is None:
        return ()
    media = tuple(medium for medium in channels_for(contact, participant)
                  if only is None or medium == only)
    if not media:
        return ()
    study = invitation.wave.study
    context = MessageContext(
        kind=kind, links=issue_links(invitation), study_name=study.name,
        wave_label=invitation.wave.label, recipient_name=contact.name,
        closes_at=invitation.closes_at, zone=ZoneInfo(study.timezone),
        first_wave=invitation.wave.is_baseline, language=participant.language,
    )
    for medium in sorted(media, key=lambda m: m is Channel.EMAIL):  # texts first, as always
        rendered = channels[medium].render(context)
        recipient = contact.email if medium is Channel.EMAIL else contact.mobile
        assert recipient is not None  # channels_for only names channels with an address
        db.add(OutboxMessage(
            dedupe_key=dedupe_key_for(medium, dedupe_key), kind=kind, channel=medium.value,
            invitation_id=invitation.id, recipient=recipient, subject=rendered.subject,
            body_text=rendered.text, body_html=rendered.html,
            unsubscribe_url=rendered.unsubscribe or None,
            next_attempt_at=send_at or now, created_at=now,
        ))
    return media
