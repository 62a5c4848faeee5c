"""`flask demo`: load the demo trusts, study, participants and answers (idempotent)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from survey.db import get_engine, session_scope
from survey.services import migrations


@click.command("demo")
@with_appcontext
@click.option("--seed", default=2013, show_default=True, help="Random seed for the synthetic data.")
def demo(seed: int) -> None:
    """Load demo trusts, teams, participants, a study and synthetic answers (idempotent)."""
    from survey.services.demo import load_demo

    engine = get_engine()
    migrations.upgrade(engine)
    with session_scope() as db:
        summary = load_demo(db, seed=seed, timezone=current_app.config["TIMEZONE"])
    # The links the app itself would send: its BASE_URL, whatever the process environment says.
    click.echo(summary.render(current_app.config["BASE_URL"]))


COMMANDS = (demo,)
