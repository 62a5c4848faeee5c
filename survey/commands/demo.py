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
    """Load demo trusts, teams, participants, a study and synthetic answers (idempotent).

    Only in demo mode: the demo's staff accounts have a published password.
    """
    if not current_app.config.get("DEMO"):
        # Checked before anything is written (not even the schema is touched).
        raise click.ClickException(
            "flask demo loads staff accounts whose password is published, so it runs only in "
            "demo mode: set PEERPULSE_DEMO=1 (as `make demo` does) on a machine of your own, "
            "never on a server with real data.")
    from survey.services.demo import load_demo

    engine = get_engine()
    migrations.upgrade(engine)
    with session_scope() as db:
        summary = load_demo(db, seed=seed, timezone=current_app.config["TIMEZONE"])
    # The links the app itself would send: its BASE_URL, whatever the process environment says.
    click.echo(summary.render(current_app.config["BASE_URL"]))


COMMANDS = (demo,)
