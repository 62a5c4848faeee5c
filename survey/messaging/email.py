"""Email: rendering invitations and reminders, and the transports that deliver them (SMTP, file).

Rendering uses its own Jinja environment over survey/templates/mail, so the scheduler and the
CLI can render without a Flask request.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.charset import QP, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Protocol

from instruments.languages import SOURCE_LANGUAGE
from survey.i18n import translations
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

TEMPLATE_DIR = TEMPLATES / "mail"
SURVEY_MINUTES = N_("5 to 8")
# TRANSLATORS: the emails' "open until" date as a CLDR pattern (EEEE weekday, d, MMMM month, y year)
LAST_DAY_FORMAT = N_("EEEE d MMMM y")


@dataclass(frozen=True)
class MailSettings:
    """How and from whom mail is sent, read once from the app's configuration."""

    base_url: str = "http://127.0.0.1:5000"
    sender: str = "PeerPulse <peerpulse@localhost>"
    backend: str = "file"
    file_dir: str = "instance/mail"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_timeout: float = 10.0
    # Where bounces go: "bounces@example.org" makes each email's envelope sender
    # bounces+<outbox id>@example.org (VERP), so a bounce names its message. Empty: the From.
    bounce_address: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        """Settings from a Flask config mapping (see survey/config.py)."""
        return cls(
            base_url=config.get("BASE_URL", cls.base_url),
            sender=config.get("MAIL_FROM", cls.sender),
            backend=config.get("MAIL_BACKEND", cls.backend),
            file_dir=config.get("MAIL_FILE_DIR", cls.file_dir),
            smtp_host=config.get("SMTP_HOST", cls.smtp_host),
            smtp_port=int(config.get("SMTP_PORT", cls.smtp_port)),
            smtp_starttls=bool(config.get("SMTP_STARTTLS", False)),
            smtp_ssl=bool(config.get("SMTP_SSL", False)),
            smtp_user=config.get("SMTP_USER", ""),
            smtp_password=config.get("SMTP_PASSWORD", ""),
            smtp_timeout=float(config.get("SMTP_TIMEOUT", cls.smtp_timeout)),
            bounce_address=config.get("MAIL_BOUNCE_ADDRESS", ""),
        )


RenderedEmail = Rendered


def render_survey_email(context: MessageContext) -> Rendered:
    """Render an invitation (kind "invite") or a reminder (kind "remind") with its personal links,
    in the participant's language (a code of instruments.languages)."""
    language = context.language
    values = {
        "study_name": context.study_name,
        "wave_label": context.wave_label,
        "name": context.recipient_name.strip(),
        "survey_link": context.links.survey,
        "withdraw_link": context.links.withdraw,
        "unsubscribe_link": context.links.unsubscribe,
        "later_link": context.links.later,
        "last_day": last_full_day(context.closes_at, context.zone, LAST_DAY_FORMAT, language),
        "minutes": translations(language).gettext(SURVEY_MINUTES),
        "first_wave": context.first_wave,
        "html_lang": "en-GB" if language == SOURCE_LANGUAGE else language,
    }
    env = localised_templates(TEMPLATE_DIR, language)
    kind = context.kind
    return Rendered(
        subject=env.get_template(f"{kind}.subject.txt").render(values).strip(),
        text=env.get_template(f"{kind}.txt").render(values),
        html=env.get_template(f"{kind}.html").render(values),
        unsubscribe=context.links.unsubscribe,
    )


@dataclass(frozen=True)
class OutgoingEmail:
    """A message ready for the wire: envelope addresses and the serialised bytes."""

    sender: str
    recipient: str
    message_id: str
    data: bytes


_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP  # readable bodies, links intact in the raw message


def _header(value: str) -> Any:
    """A header value, RFC 2047-encoded when it is not plain ASCII."""
    return value if value.isascii() else Header(value, "utf-8")


_VERP = re.compile(r"^(?P<local>[^@+]+)\+(?P<id>[0-9]{1,18})@(?P<domain>[^@]+)$")
_ADDRESS = re.compile(r"[^\s<>()\[\]\"';,:]+@[^\s<>()\[\]\"';,:]+")


def verp_address(bounce_address: str, message_id: int) -> str | None:
    """The envelope sender that names one outbox message (bounces+42@example.org), or None."""
    if not bounce_address or "@" not in bounce_address:
        return None
    local, domain = bounce_address.rsplit("@", 1)
    return f"{local}+{message_id}@{domain}"


def parse_verp(address: str, bounce_address: str) -> int | None:
    """The outbox message id a bounce's recipient names, None for any other address."""
    match = _VERP.match(address.strip().strip("<>"))
    if match is None or not bounce_address or "@" not in bounce_address:
        return None
    local, domain = bounce_address.rsplit("@", 1)
    if match["local"].lower() != local.lower() or match["domain"].lower() != domain.lower():
        return None
    return int(match["id"])


def redact_addresses(text: str) -> str:
    """The text with every email address replaced by "<address>" (for errors kept or logged)."""
    return _ADDRESS.sub("<address>", text)


def build_message(
    settings: MailSettings, *, recipient: str, subject: str, text: str, html: str, message_key: str,
    when: dt.datetime, envelope_sender: str | None = None, unsubscribe: str = "",
) -> OutgoingEmail:
    """A multipart/alternative message; its Message-ID is stable per outbox message.

    With an `unsubscribe` URL it carries List-Unsubscribe and List-Unsubscribe-Post
    (RFC 8058): a mail client's one-click "unsubscribe" POSTs to that URL.
    """
    sender_name, sender_address = parseaddr(settings.sender)
    domain = sender_address.rsplit("@", 1)[-1] or "peerpulse.localhost"
    # The same outbox message always carries the same Message-ID, so that if a crash makes us
    # hand it to the server twice, receiving systems can recognise the copy.
    message_id = f"<{message_key.replace(':', '.')}@{domain}>"
    message = MIMEMultipart("alternative")
    message["From"] = formataddr((sender_name, sender_address), charset="utf-8")
    message["To"] = recipient
    message["Subject"] = _header(subject)
    message["Date"] = format_datetime(when.astimezone(dt.UTC))
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe:
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.attach(MIMEText(text, "plain", _UTF8_QP))  # type: ignore[arg-type]  # stubs: str only
    if html:
        message.attach(MIMEText(html, "html", _UTF8_QP))  # type: ignore[arg-type]
    data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))  # SMTP wants CRLF
    return OutgoingEmail(envelope_sender or sender_address, recipient, message_id, data)


class Transport(Protocol):
    """Something that hands one message over for delivery."""

    def send(self, message: OutgoingEmail) -> None:
        """Deliver the message or raise TemporaryFailure / PermanentFailure."""

    def close(self) -> None:
        """Release the connection."""


class FileTransport:
    """Writes each message as an .eml file (the demo default: nothing leaves the machine)."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    def send(self, message: OutgoingEmail) -> None:
        """Write the message atomically under the mail directory."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            stem = message.message_id.strip("<>").split("@", 1)[0]
            final = self.directory / f"{stem}.eml"
            partial = self.directory / f".{stem}.{os.getpid()}.tmp"
            partial.write_bytes(message.data)
            partial.replace(final)
        except OSError as exc:
            raise TemporaryFailure(f"cannot write {self.directory}: {exc}") from exc

    def close(self) -> None:
        """Nothing to release."""


class SmtpTransport:
    """One SMTP connection, opened lazily and reused for a batch of messages."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            smtp: smtplib.SMTP
            if s.smtp_ssl:
                smtp = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=s.smtp_timeout,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password)
        except smtplib.SMTPResponseException as exc:
            # Even a 5xx at connect or login is a server or configuration problem, not a
            # problem with this message: retry later rather than fail every message.
            raise ConnectionFailure(
                f"SMTP {exc.smtp_code} on connect: {_text(exc.smtp_error)}"
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectionFailure(f"cannot connect to {s.smtp_host}:{s.smtp_port}: {exc}") from exc
        return smtp

    def send(self, message: OutgoingEmail) -> None:
        """Send over the open connection, classifying failures as temporary or permanent."""
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            refused = self._smtp.sendmail(message.sender, [message.recipient], message.data)
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset()
            codes = [code for code, _msg in exc.recipients.values()]
            detail = "; ".join(f"{code} {_text(msg)}" for code, msg in exc.recipients.values())
            if all(code >= 500 for code in codes):
                raise PermanentFailure(f"recipient refused: {detail}", recipient=True) from exc
            raise TemporaryFailure(f"recipient deferred: {detail}") from exc
        except smtplib.SMTPResponseException as exc:
            self._reset()
            text = f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}"
            if exc.smtp_code >= 500:
                raise PermanentFailure(text) from exc
            raise TemporaryFailure(text) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise ConnectionFailure(f"connection lost: {exc}") from exc
        if refused:  # pragma: no cover - only with several recipients
            raise PermanentFailure(f"refused: {refused}")

    def _reset(self) -> None:
        """After a refused message, make the connection ready for the next one."""
        if self._smtp is not None:
            try:
                self._smtp.rset()
            except (OSError, smtplib.SMTPException):
                self.close()

    def close(self) -> None:
        """Quit politely; a dead connection is simply dropped."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def make_transport(settings: MailSettings) -> Transport:
    """The transport the settings name ("smtp" or "file")."""
    if settings.backend == "smtp":
        return SmtpTransport(settings)
    if settings.backend == "file":
        return FileTransport(settings.file_dir)
    raise ValueError(f"MAIL_BACKEND must be 'smtp' or 'file', not '{settings.backend}'")


class EmailChannel(LazyTransport[MailSettings, Transport]):
    """The email channel: render with the mail templates, send over one transport a batch."""

    medium: ClassVar[Channel] = Channel.EMAIL

    def make_transport(self) -> Transport:
        """SMTP or a directory of .eml files, as the settings say."""
        return make_transport(self.settings)

    def render(self, context: MessageContext) -> Rendered:
        """The email for this context."""
        return render_survey_email(context)

    def send(self, message: Envelope) -> None:
        """Build the MIME message (VERP envelope sender, List-Unsubscribe) and hand it over."""
        self.transport.send(build_message(
            self.settings, recipient=message.recipient, subject=message.subject,
            text=message.text, html=message.html, message_key=message.key, when=message.when,
            envelope_sender=verp_address(self.settings.bounce_address, message.id),
            unsubscribe=message.unsubscribe,
        ))


__all__ = [
    "ConnectionFailure",
    "EmailChannel",
    "FileTransport",
    "MailSettings",
    "OutgoingEmail",
    "PermanentFailure",
    "RenderedEmail",
    "SmtpTransport",
    "TemporaryFailure",
    "Transport",
    "build_message",
    "make_transport",
    "parse_verp",
    "redact_addresses",
    "render_survey_email",
    "verp_address",
]
