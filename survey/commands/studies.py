"""`flask studies check|load FILE`: set up a study from a reviewed YAML file."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from survey.db import session_scope
from survey.services.audit import record_event
from survey.services.errors import InputError
from survey.services.study_setup import StudySpec, apply_study, read_study_file

studies_cli = AppGroup("studies", help="Set up studies from YAML files (see examples/study.yaml).")


def _read(path: Path) -> StudySpec:
    """The checked study of a file; every problem printed and exit 1 if there are any."""
    spec, problems = read_study_file(path, current_app.config["TIMEZONE"])
    for problem in problems:
        click.echo(str(problem), err=True)
    if spec is None:
        click.echo(f"{len(problems)} problem(s) in {path}; nothing was changed.", err=True)
        sys.exit(1)
    return spec


@studies_cli.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check(path: Path) -> None:
    """Check a study file without touching the database."""
    spec = _read(path)
    click.echo(f"OK: study '{spec.code}' with {len(spec.waves)} waves.")


@studies_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load(path: Path) -> None:
    """Create or update a study from a file (all or nothing)."""
    spec = _read(path)
    try:
        with session_scope() as db:
            study = apply_study(db, spec)
            record_event(db, None, "study.load", "study", study.code,
                         {"waves": len(spec.waves), "file": path.name}, actor="cli")
    except InputError as exc:
        for problem in exc.problems:
            click.echo(f"{path.name}: {problem.message}; nothing was changed.", err=True)
        sys.exit(1)
    click.echo(f"Study '{spec.code}' loaded: {len(spec.waves)} waves.")


COMMANDS = (studies_cli,)
