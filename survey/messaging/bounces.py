"""Bounces: reading delivery-status notifications (RFC 3464) and the LMTP receiver for them.

Each email leaves with the envelope sender bounces+<outbox id>@<domain> (VERP, MAIL_BOUNCE_ADDRESS),
so a mail server returns its bounce to an address that names the message. The receiver
(`flask bounces serve`, aiosmtpd's LMTP on 127.0.0.1, for Postfix's `lmtp:` transport or
any MTA that can hand mail on) accepts mail only for such addresses, reads the report with the
standard library's `email` package and hands each outcome to a callback it is given: it
imports no services. Nothing it logs carries an address: only message ids and status codes.
"""

from __future__ import annotations

import email
import email.policy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP

from survey.messaging.email import parse_verp, redact_addresses
from survey.models import Receipt

log = logging.getLogger(__name__)

# One outcome: (outbox message id, receipt, address-free detail) -> True if it was applied,
# False if it changed nothing, None if the message is unknown.
OnReceipt = Callable[[int, Receipt, str], bool | None]


@dataclass(frozen=True)
class DsnOutcome:
    """One recipient's block of a delivery-status notification, without its address."""

    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # e.g. 5.1.1
    receipt: Receipt
    detail: str


def _receipt(action: str, status: str) -> Receipt | None:
    """RFC 3464 §2.3.3 and RFC 3463: failed or 5.x.x is permanent, delayed or 4.x.x temporary."""
    if action == "failed" or status.startswith("5."):
        return Receipt.PERMANENT_FAILURE
    if action == "delayed" or status.startswith("4."):
        return Receipt.TEMPORARY_FAILURE
    if action in ("delivered", "relayed", "expanded") or status.startswith("2."):
        return Receipt.DELIVERED
    return None


def _status_blocks(report: Message) -> list[Message]:
    """The header blocks of a message/delivery-status part (per-message, then per-recipient)."""
    payload = report.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    return []


def parse_dsn(data: bytes) -> list[DsnOutcome]:
    """The per-recipient outcomes of a delivery-status notification; [] for any other mail."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    outcomes: list[DsnOutcome] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _status_blocks(part)[1:]:
            action = str(block.get("Action", "")).strip().lower()
            status = str(block.get("Status", "")).strip().split(" ", 1)[0]
            receipt = _receipt(action, status)
            if receipt is None:
                continue
            diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
            detail = redact_addresses(f"{action} {status} {diagnostic}".strip())
            outcomes.append(DsnOutcome(action, status, receipt, detail[:500]))
    return outcomes


class BounceHandler:
    """aiosmtpd handler: accepts bounces+<id>@ recipients, reads their DSNs, reports outcomes."""

    def __init__(self, bounce_address: str, on_receipt: OnReceipt) -> None:
        self.bounce_address = bounce_address
        self.on_receipt = on_receipt

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: Any) -> str:
        """Only VERP bounce addresses are accepted; every other recipient is refused."""
        if parse_verp(address, self.bounce_address) is None:
            return "550 5.1.1 Not a bounce address of this service"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Apply each outcome to the message its recipient names; anything else is dropped."""
        try:
            outcomes = parse_dsn(envelope.original_content or envelope.content)
        except Exception:  # a malformed message must not stop the receiver
            log.warning("bounce receiver: unreadable message dropped")
            return "250 2.0.0 Dropped: unreadable"
        if not outcomes:
            log.info("bounce receiver: not a delivery-status notification, dropped")
        for recipient in envelope.rcpt_tos:
            message_id = parse_verp(recipient, self.bounce_address)
            assert message_id is not None  # handle_RCPT let only these through
            for outcome in outcomes:
                try:
                    applied = self.on_receipt(message_id, outcome.receipt, outcome.detail)
                except Exception:
                    log.exception("bounce receiver: recording message %s failed", message_id)
                    return "451 4.3.0 Could not record the bounce, try again later"
                if applied is None:
                    log.warning("bounce for unknown outbox message %s dropped", message_id)
                else:
                    log.info("bounce for outbox message %s: %s %s (%s)", message_id,
                             outcome.receipt.value, outcome.status,
                             "recorded" if applied else "no change")
        return "250 2.0.0 OK"


class _LmtpController(Controller):
    """aiosmtpd's Controller speaking LMTP (LHLO) rather than SMTP."""

    def factory(self) -> LMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


def bounce_receiver(bounce_address: str, on_receipt: OnReceipt, *, host: str = "127.0.0.1",
                    port: int = 8024) -> Controller:
    """An LMTP server for bounces (not started: call .start() and .stop())."""
    return _LmtpController(BounceHandler(bounce_address, on_receipt), hostname=host, port=port)


__all__ = ["BounceHandler", "DsnOutcome", "bounce_receiver", "parse_dsn"]
