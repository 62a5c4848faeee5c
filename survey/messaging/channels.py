"""The registry of channels, keyed by the Channel enum: how the outbox finds who delivers what."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from survey.messaging.base import MessageChannel
from survey.messaging.email import EmailChannel, MailSettings
from survey.messaging.sms import SmsChannel, SmsSettings
from survey.models import Channel

# Each medium a message can go by (Channel.BOTH is a choice of a participant, not a medium).
REGISTRY: dict[Channel, Callable[[Mapping[str, Any]], MessageChannel]] = {
    Channel.EMAIL: lambda config: EmailChannel(MailSettings.from_config(config)),
    Channel.SMS: lambda config: SmsChannel(SmsSettings.from_config(config)),
}
MEDIA = tuple(REGISTRY)


def from_config(config: Mapping[str, Any]) -> dict[Channel, MessageChannel]:
    """Every channel, set up from a Flask config mapping (transports are opened on first use)."""
    return {medium: make(config) for medium, make in REGISTRY.items()}


@functools.lru_cache(maxsize=8)
def renderers(settings: MailSettings) -> Mapping[Channel, MessageChannel]:
    """The channels for rendering only (the invitation steps): no transport is ever opened, so
    one set serves every call with the same settings."""
    return {Channel.EMAIL: EmailChannel(settings),
            Channel.SMS: SmsChannel(SmsSettings(base_url=settings.base_url))}
