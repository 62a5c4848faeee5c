"""`flask db upgrade|downgrade|check`: the database schema, through Alembic only."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from survey.db import get_engine
from survey.services import migrations

db_cli = AppGroup("db", help="Database schema: upgrade, downgrade, check.")


@db_cli.command("upgrade")
@click.argument("revision", default="heads")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the latest)."""
    engine = get_engine()
    migrations.upgrade(engine, revision)
    click.echo(f"Database at {migrations.current_revision(engine)} ({engine.url.render_as_string()})")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (e.g. base)."""
    migrations.downgrade(get_engine(), revision)
    click.echo(f"Database at {migrations.current_revision(get_engine())}")


@db_cli.command("check")
def db_check() -> None:
    """Exit non-zero if the models and the migrations disagree."""
    problem = migrations.check(get_engine())
    if problem:
        click.echo(f"Models and migrations differ: {problem}", err=True)
        click.echo("Write a migration: alembic revision --autogenerate -m '...'", err=True)
        sys.exit(1)
    click.echo("No differences between models and migrations.")


COMMANDS = (db_cli,)
