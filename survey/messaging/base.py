"""What every channel shares: the channel interface, its inputs, its failures, its templates.

A channel (email, SMS) renders an invitation or reminder from a `MessageContext` whose links
are already URLs, and sends one `Envelope` at a time over a connection it holds for a batch.
It imports no services: the caller (services.invitations through `compose`, services.outbox
through the registry) gives it everything it needs.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from instruments.languages import SOURCE_LANGUAGE
from survey.i18n import translations
from survey.models import Channel

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
KINDS = ("invite", "remind")


def N_(message: str) -> str:
    """Mark a string for the catalogue; it is translated where it is used."""
    return message


@functools.lru_cache(maxsize=16)
def localised_templates(directory: Path, language: str) -> Environment:
    """The Jinja environment of a directory of message templates (emails, texts) for one
    language, its gettext installed; only .html templates are autoescaped."""
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def last_full_day(closes_at: dt.datetime, zone: ZoneInfo, pattern: str, language: str) -> str:
    """A survey window's last full day, in the language's form of a catalogue date `pattern`.

    The window closes at the start of a sending slot, so the last full day is the day before.
    """
    last_day = (closes_at.astimezone(zone) - dt.timedelta(minutes=1)).date()
    return format_date(last_day, translations(language).gettext(pattern), locale=language)


class TemporaryFailure(Exception):
    """Delivery failed but may work later (server down, 4xx reply)."""


class ConnectionFailure(TemporaryFailure):
    """The server could not be reached or dropped the connection: no message will get through."""


class PermanentFailure(Exception):
    """Delivery will not work for this message (5xx reply).

    `recipient` is true when the refusal is about the address itself (a 5xx to RCPT TO, a
    number the provider refuses): only then is that contact marked unreachable.
    """

    def __init__(self, message: str, *, recipient: bool = False) -> None:
        super().__init__(message)
        self.recipient = recipient


@dataclass(frozen=True)
class Links:
    """A message's personal links, as URLs (the caller makes them from the token)."""

    survey: str
    withdraw: str
    # One-click "no more emails for this study" (List-Unsubscribe, RFC 8058); "" for none.
    unsubscribe: str = ""
    # "Remind me later" on the personal link's page; "" for none.
    later: str = ""


@dataclass(frozen=True)
class MessageContext:
    """Everything a channel needs to render one invitation or reminder."""

    kind: str  # "invite" or "remind"
    links: Links
    study_name: str
    wave_label: str
    recipient_name: str
    closes_at: dt.datetime
    zone: ZoneInfo
    first_wave: bool
    language: str = SOURCE_LANGUAGE

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown message kind '{self.kind}'")


@dataclass(frozen=True)
class Rendered:
    """A rendered message: what the outbox stores (a text has no subject and no HTML)."""

    subject: str
    text: str
    html: str = ""
    # Headers the channel adds when it sends (List-Unsubscribe): kept with the message.
    unsubscribe: str = ""


@dataclass(frozen=True)
class Envelope:
    """One outbox message handed to a channel: its stable key and what to send where."""

    id: int
    key: str  # stable per outbox message: a resend carries the same Message-ID / reference
    recipient: str
    subject: str
    text: str
    html: str
    when: dt.datetime
    unsubscribe: str = ""


class MessageChannel(Protocol):
    """A way of reaching people: render a message, send it, and the settings it uses."""

    medium: ClassVar[Channel]
    settings: Any

    def render(self, context: MessageContext) -> Rendered:
        """The message for this context, in its language."""

    def send(self, message: Envelope) -> None:
        """Deliver it or raise TemporaryFailure / ConnectionFailure / PermanentFailure."""

    def close(self) -> None:
        """Release the connection held for a batch."""


class _Closable(Protocol):
    def close(self) -> None: ...


SettingsT = TypeVar("SettingsT")
TransportT = TypeVar("TransportT", bound=_Closable)


class LazyTransport(Generic[SettingsT, TransportT]):
    """A channel's settings and its transport, made on first use (rendering needs none) and
    closed at the end of a batch. A channel names how its transport is made."""

    def __init__(self, settings: SettingsT, transport: TransportT | None = None) -> None:
        self.settings = settings
        self._transport = transport

    def make_transport(self) -> TransportT:
        """The transport the settings name."""
        raise NotImplementedError

    @property
    def transport(self) -> TransportT:
        """The transport, made on first use."""
        if self._transport is None:
            self._transport = self.make_transport()
        return self._transport

    def close(self) -> None:
        """Close the transport, if one was made."""
        if self._transport is not None:
            self._transport.close()
