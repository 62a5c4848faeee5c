"""`flask create-admin`: create a staff account, reset its password and role, or its second factor."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from survey.db import session_scope
from survey.models import StaffRole
from survey.services import sign_in, staff
from survey.services.errors import InputError


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
            user = staff.by_email(db, email)
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
        for problem in exc.problems:
            click.echo(f"--{problem.field}: {problem.message}", err=True)
        raise SystemExit(1) from None
    click.echo(f"{done} {email}")
    if reset_2fa:
        click.echo("Every session of the account has ended; it sets up a new second factor at its "
                   "next sign-in (admins and researchers) or from its account page.")


COMMANDS = (create_admin,)
