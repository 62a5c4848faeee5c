"""`flask participants import FILE --study CODE`: enrol from a CSV file, all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from survey.db import session_scope
from survey.services.enrolment import import_csv
from survey.services.errors import InputError
from survey.services.studies import by_code

participants_cli = AppGroup("participants", help="Enrol participants in a study.")


@participants_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--study", "study_code", required=True, help="The study's code.")
def import_participants(file: Path, study_code: str) -> None:
    """Enrol or update the participants listed in a CSV FILE (all or nothing)."""
    with session_scope() as db:
        study = by_code(db, study_code)
        if study is None:
            raise click.BadParameter(f"no study with code '{study_code}'", param_hint="--study")
        try:
            result = import_csv(db, study, file.read_bytes())
        except InputError as exc:
            click.echo(f"{file}: rejected, nothing was written. Problems:", err=True)
            for problem in exc.problems:
                click.echo(f"  {file}: {problem}", err=True)
            sys.exit(1)
    click.echo(f"{file}: {result.summary()} in study {study_code}.")


COMMANDS = (participants_cli,)
