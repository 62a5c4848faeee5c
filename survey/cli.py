"""Flask commands: db, demo, create-admin (later issues add their own groups here)."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from survey.db import get_engine, session_scope
from survey.models import StaffRole, User
from survey.services import migrations, sign_in, staff
from survey.services.errors import InputError

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


@click.command("create-admin")
@with_appcontext
@click.option("--email", prompt=True)
@click.option("--password", default=None, hide_input=True,
              help="Asked for when not given (not needed with --reset-2fa alone).")
@click.option(
    "--role",
    type=click.Choice([r.value for r in StaffRole]),
    default=StaffRole.ADMIN.value,
    show_default=True,
)
@click.option("--trust", "trust_code", default=None, help="Trust code (for trust monitors).")
@click.option("--reset-2fa", "reset_2fa", is_flag=True,
              help="Remove a lost second factor (set up again at the next sign-in); ends every session.")
def create_admin(email: str, password: str | None, role: str, trust_code: str | None,
                 reset_2fa: bool) -> None:
    """Create a staff account, reset the password and role of an existing one, or its second factor."""
    if password is None and not reset_2fa:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    email = email.strip().lower()
    try:
        with session_scope() as db:
            user = db.scalar(select(User).where(func.lower(User.email) == email))
            if reset_2fa:
                if user is None:
                    raise InputError({"email": f"There is no account for {email}."})
                sign_in.reset_second_factor(db, user, actor="cli")
            if password is None:
                done = "Reset the second factor of"
            elif user is None:
                staff.create_account(db, None, email=email, role=role, password=password,
                                     trust_code=trust_code, actor="cli")
                done = f"Created {role}"
            else:
                staff.reset_account(db, user, role=role, password=password,
                                    trust_code=trust_code, actor="cli")
                done = f"Updated {role}"
    except InputError as exc:
        for field, message in exc.problems.items():
            click.echo(f"--{field}: {message}", err=True)
        raise SystemExit(1) from None
    click.echo(f"{done} {email}")
    if reset_2fa:
        click.echo("Every session of the account has ended; it sets up a new second factor at its "
                   "next sign-in (admins and researchers) or from its account page.")


@click.command("demo")
@with_appcontext
@click.option("--seed", default=2013, show_default=True, help="Random seed for the synthetic data.")
def demo(seed: int) -> None:
    """Load demo trusts, teams, participants, a study and synthetic answers (idempotent)."""
    from survey.config import Config
    from survey.services.demo import load_demo

    engine = get_engine()
    migrations.upgrade(engine)
    with session_scope() as db:
        summary = load_demo(db, seed=seed)
    click.echo(summary.render(Config().BASE_URL))


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(db_cli)
    app.cli.add_command(create_admin)
    app.cli.add_command(demo)
    from survey import instruments_cli, scheduling_cli, setup_cli

    for module in (instruments_cli, scheduling_cli, setup_cli):
        module.init_app(app)
