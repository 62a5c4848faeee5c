"""`flask bounces serve`: the LMTP receiver for bounced email (survey.messaging.bounces)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from survey.db import get_sessionmaker
from survey.messaging.bounces import OnReceipt, bounce_receiver
from survey.messaging.email import MailSettings
from survey.models import Receipt
from survey.until_stopped import stop_on_sigterm, wait_until


def receipt_recorder(app: Flask) -> OnReceipt:
    """The receiver's callback: one transaction per outcome, through services.receipts."""
    from survey.services.receipts import record_bounce

    settings = MailSettings.from_config(app.config)
    sessions = get_sessionmaker(app, writing=True)

    def record(message_id: int, receipt: Receipt, detail: str) -> bool | None:
        with sessions.begin() as db:
            return record_bounce(db, message_id, receipt, detail, settings)

    return record


@click.group("bounces")
def bounces() -> None:
    """Bounced email: the receiver that reads delivery-status notifications."""


@bounces.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8024, show_default=True, type=int, help="LMTP port.")
@with_appcontext
def serve(host: str, port: int) -> None:
    """Receive bounces by LMTP until Ctrl-C or SIGTERM (needs MAIL_BOUNCE_ADDRESS)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    address = app.config.get("MAIL_BOUNCE_ADDRESS", "")
    if "@" not in address:
        raise click.UsageError("MAIL_BOUNCE_ADDRESS is not set: emails carry no bounce address "
                               "(set it to e.g. bounces@example.org).")
    receiver = bounce_receiver(address, receipt_recorder(app), host=host, port=port)
    stop = stop_on_sigterm()
    receiver.start()
    click.echo(f"Bounce receiver (LMTP) on {host}:{port}. Stop with Ctrl-C.")
    try:
        wait_until(stop)
    finally:
        receiver.stop()


COMMANDS = (bounces,)
