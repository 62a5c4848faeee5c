"""`flask instruments check`: the files, and the files against the responses already stored."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from instruments import INSTRUMENT_DIR
from instruments.cli import run_check
from survey.db import session_scope
from survey.services import instrument_versions

instruments_cli = AppGroup("instruments", help="Questionnaire files.")


@instruments_cli.command("check")
def check() -> None:
    """Check every instrument file, and that no version with responses was edited."""
    status = run_check(INSTRUMENT_DIR)
    with session_scope() as db:
        found = instrument_versions.problems(db)
    for problem in found:
        click.echo(f"database: {problem}", err=True)
    if found:
        click.echo(f"{len(found)} problem(s) between the database and the files.", err=True)
    sys.exit(1 if status or found else 0)


COMMANDS = (instruments_cli,)
