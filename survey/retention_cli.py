"""Command: `flask retention apply [--execute]` (a dry run unless --execute)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from survey.db import session_scope, utcnow
from survey.services.retention import apply_retention

retention_cli = AppGroup("retention", help="Delete contact details and links after retention.")


@retention_cli.command("apply")
@click.option("--execute", is_flag=True, help="Delete for real (without it: only say what would go).")
def apply(execute: bool) -> None:
    """For studies past close + retention_days: delete contact details and link tokens."""
    with session_scope() as db:
        results = apply_retention(db, utcnow(), dry_run=not execute)
    if not results:
        click.echo("No study is past its retention period.")
    verb = "deleted" if execute else "would delete (dry run; add --execute to delete)"
    for result in results:
        click.echo(f"{verb}: {result.line()}")


def init_app(app: Flask) -> None:
    """Register the command."""
    app.cli.add_command(retention_cli)
