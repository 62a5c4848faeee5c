"""Flask commands: db, demo, create-admin (later issues add their own groups here)."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from survey.db import get_engine, session_scope
from survey.models import Organisation, StaffRole, User
from survey.services import migrations
from survey.services.audit import record_event

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
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option(
    "--role",
    type=click.Choice([r.value for r in StaffRole]),
    default=StaffRole.ADMIN.value,
    show_default=True,
)
@click.option("--trust", "trust_code", default=None, help="Trust code (for trust monitors).")
def create_admin(email: str, password: str, role: str, trust_code: str | None) -> None:
    """Create a staff account (or reset its password and role if it exists)."""
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter(f"'{email}' is not an email address", param_hint="--email")
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="--password")
    staff_role = StaffRole(role)
    with session_scope() as db:
        organisation = None
        if trust_code:
            organisation = db.scalar(select(Organisation).where(Organisation.code == trust_code))
            if organisation is None:
                raise click.BadParameter(f"no trust with code '{trust_code}'", param_hint="--trust")
        if staff_role == StaffRole.TRUST_MONITOR and organisation is None:
            raise click.BadParameter("a trust monitor needs --trust", param_hint="--trust")
        user = db.scalar(select(User).where(func.lower(User.email) == email))
        action = "user.update" if user else "user.create"
        if user is None:
            user = User(email=email, role=staff_role, password_hash="")
            db.add(user)
        user.role = staff_role
        user.organisation = organisation
        user.active = True
        user.set_password(password)
        db.flush()
        record_event(db, None, action, "user", user.id, {"role": role}, actor="cli")
    click.echo(f"{'Updated' if action == 'user.update' else 'Created'} {role} {email}")


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
    for module_name in ("instruments_cli", "scheduling_cli", "setup_cli"):
        # Command groups of later issues live beside their code and register themselves here.
        try:
            module = __import__(f"survey.{module_name}", fromlist=["init_app"])
        except ModuleNotFoundError as exc:
            if exc.name != f"survey.{module_name}":
                raise
            continue
        module.init_app(app)
