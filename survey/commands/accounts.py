"""`flask create-admin`: create a staff account, or reset its password and role."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from survey.db import session_scope
from survey.models import StaffRole
from survey.services import staff
from survey.services.errors import InputError


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
    """Create a staff account, or reset the password and role of an existing one."""
    try:
        with session_scope() as db:
            user = staff.by_email(db, email)
            if user is None:
                staff.create_account(db, None, email=email, role=role, password=password,
                                     trust_code=trust_code, actor="cli")
                done = "Created"
            else:
                staff.reset_account(db, user, role=role, password=password,
                                    trust_code=trust_code, actor="cli")
                done = "Updated"
    except InputError as exc:
        for problem in exc.problems:
            click.echo(f"--{problem.field}: {problem.message}", err=True)
        raise SystemExit(1) from None
    click.echo(f"{done} {role} {email.strip().lower()}")


COMMANDS = (create_admin,)
