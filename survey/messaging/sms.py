"""Text messages: rendering invitations and reminders, counting segments, and the transports.

Two backends behind one small interface (`SmsTransport`): `file` writes each message under
instance/sms/ (the demo default: nothing leaves the machine), `notify` sends through GOV.UK
Notify. Failures are messaging.base's TemporaryFailure (retried by the outbox with its
backoff), ConnectionFailure (the service is unreachable: the rest of the batch waits too) and
PermanentFailure (marked failed, shown on the outbox admin page).

The Notify template named by NOTIFY_SMS_TEMPLATE_ID must be exactly `((body))`: PeerPulse
renders the whole text itself (survey/templates/sms/), so that it can count its length.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol
from zoneinfo import ZoneInfo

from instruments.languages import SOURCE_LANGUAGE
from survey.messaging.base import (
    N_,
    TEMPLATES,
    ConnectionFailure,
    Envelope,
    LazyTransport,
    MessageContext,
    PermanentFailure,
    Rendered,
    TemporaryFailure,
    last_full_day,
    localised_templates,
)
from survey.models import Channel

TEMPLATE_DIR = TEMPLATES / "sms"
SURVEY_MINUTES = "5-8"  # GSM-7 has no en dash: keep texts in one 160-character segment
# TRANSLATORS: a text message's "open until" date as a CLDR pattern (EEE short weekday, d day,
# MMM short month). Keep it to letters of the GSM 03.38 alphabet (no circumflexes), short, and
# free of a weekday that would need a mutation: a text must fit one 160-character segment.
LAST_DAY_FORMAT = N_("EEE d MMM")
NOTIFY_BASE_URL = "https://api.notifications.service.gov.uk"
BACKENDS = ("file", "notify")

@dataclass(frozen=True)
class SmsSettings:
    """How text messages are sent, read once from the app's configuration."""

    base_url: str = "http://127.0.0.1:5000"
    backend: str = "file"
    file_dir: str = "instance/sms"
    notify_api_key: str = ""
    notify_template_id: str = ""
    notify_base_url: str = NOTIFY_BASE_URL
    notify_timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmsSettings:
        """Settings from a Flask config mapping (see survey/config.py)."""
        return cls(
            base_url=config.get("BASE_URL", cls.base_url),
            backend=config.get("SMS_BACKEND", cls.backend),
            file_dir=config.get("SMS_FILE_DIR", cls.file_dir),
            notify_api_key=config.get("NOTIFY_API_KEY", ""),
            notify_template_id=config.get("NOTIFY_SMS_TEMPLATE_ID", ""),
            notify_base_url=config.get("NOTIFY_BASE_URL", cls.notify_base_url),
            notify_timeout=float(config.get("NOTIFY_TIMEOUT", cls.notify_timeout)),
        )


def render_survey_sms(
    kind: str, *, survey_link: str, closes_at: dt.datetime, zone: ZoneInfo,
    language: str = SOURCE_LANGUAGE,
) -> str:
    """The text of an invitation (kind "invite") or a reminder ("remind"): link and opt-out,
    in the participant's `language` (a code of instruments.languages)."""
    if kind not in ("invite", "remind"):
        raise ValueError(f"unknown text message kind '{kind}'")
    context = {
        "survey_link": survey_link,
        "last_day": last_full_day(closes_at, zone, LAST_DAY_FORMAT, language),
        "minutes": SURVEY_MINUTES,
    }
    return localised_templates(TEMPLATE_DIR, language).get_template(f"{kind}.txt").render(
        context).strip()


# --- Segments ------------------------------------------------------------------------------
# The GSM 03.38 default alphabet (one septet each) and its extension table (two septets each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SegmentCount:
    """How a text is encoded and how many parts a phone network bills it as."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int  # characters that fit in one segment of a text this long


def count_segments(text: str) -> SegmentCount:
    """Segments of one SMS: 160 GSM-7 characters in one, 153 per part when concatenated."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return SegmentCount(encoding, units, 1 if units else 0, single)
    return SegmentCount(encoding, units, -(-units // multi), multi)


# --- Transports ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OutgoingSms:
    """A text ready to send; `reference` is stable per outbox message (a resend carries it)."""

    recipient: str
    body: str
    reference: str


class SmsTransport(Protocol):
    """Something that hands one text message over for delivery."""

    def send(self, message: OutgoingSms) -> None:
        """Deliver the message or raise TemporaryFailure / PermanentFailure."""

    def close(self) -> None:
        """Release what the transport holds."""


class FileSmsTransport:
    """Writes each text as a .txt file (the demo default: nothing leaves the machine)."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    def send(self, message: OutgoingSms) -> None:
        """Write the message atomically under the SMS directory, one file per message."""
        stem = message.reference.replace(":", ".")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            partial = self.directory / f".{stem}.{os.getpid()}.tmp"
            partial.write_text(f"To: {message.recipient}\n\n{message.body}\n", encoding="utf-8")
            partial.replace(self.directory / f"{stem}.txt")
        except OSError as exc:
            raise TemporaryFailure(f"cannot write {self.directory}: {exc}") from exc

    def close(self) -> None:
        """Nothing to release."""


class NotifySmsTransport:
    """GOV.UK Notify's REST API through its official client (one HTTP session per batch)."""

    def __init__(self, settings: SmsSettings) -> None:
        from notifications_python_client.notifications import NotificationsAPIClient

        self.template_id = settings.notify_template_id
        self.client = NotificationsAPIClient(
            settings.notify_api_key, base_url=settings.notify_base_url,
            timeout=settings.notify_timeout,
        )

    def send(self, message: OutgoingSms) -> None:
        """POST /v2/notifications/sms; 429 and 5xx are temporary, other refusals permanent."""
        from notifications_python_client.errors import APIError

        try:
            self.client.send_sms_notification(
                phone_number=message.recipient, template_id=self.template_id,
                personalisation={"body": message.body}, reference=message.reference,
            )
        except APIError as exc:
            status, detail = exc.status_code, _notify_detail(exc)
            if exc.response is None:
                raise ConnectionFailure(f"cannot reach GOV.UK Notify: {detail}") from exc
            if status == 429 or status >= 500:
                raise TemporaryFailure(f"Notify {status}: {detail}") from exc
            # A 400 about the number (not a key, template or trial-mode refusal) is about
            # this recipient: the number is dead.
            about_number = status == 400 and "number" in detail.lower()
            raise PermanentFailure(f"Notify {status}: {detail}", recipient=about_number) from exc

    def close(self) -> None:
        """Close the HTTP session."""
        self.client.request_session.close()


def _notify_detail(exc: Any) -> str:
    """Notify's error messages in one line (its body lists them under "errors")."""
    message = exc.message
    if isinstance(message, list):
        return "; ".join(str(item.get("message", item)) for item in message if isinstance(item, dict))
    return str(message)


def make_sms_transport(settings: SmsSettings) -> SmsTransport:
    """The transport the settings name ("file" or "notify")."""
    if settings.backend == "notify":
        return NotifySmsTransport(settings)
    if settings.backend == "file":
        return FileSmsTransport(settings.file_dir)
    raise ValueError(f"SMS_BACKEND must be 'file' or 'notify', not '{settings.backend}'")


class SmsChannel(LazyTransport[SmsSettings, SmsTransport]):
    """The text message channel: one short text, sent over one transport a batch."""

    medium: ClassVar[Channel] = Channel.SMS

    def make_transport(self) -> SmsTransport:
        """GOV.UK Notify or a directory of text files, as the settings say."""
        return make_sms_transport(self.settings)

    def render(self, context: MessageContext) -> Rendered:
        """The text for this context (no subject, no HTML)."""
        return Rendered("", render_survey_sms(
            context.kind, survey_link=context.links.survey, closes_at=context.closes_at,
            zone=context.zone, language=context.language))

    def send(self, message: Envelope) -> None:
        """Hand the text over, its reference the outbox message's stable key."""
        self.transport.send(OutgoingSms(message.recipient, message.text, message.key))


__all__ = [
    "FileSmsTransport",
    "NotifySmsTransport",
    "OutgoingSms",
    "SegmentCount",
    "SmsChannel",
    "SmsSettings",
    "SmsTransport",
    "count_segments",
    "make_sms_transport",
    "render_survey_sms",
]
