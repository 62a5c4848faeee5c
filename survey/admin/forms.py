"""Forms for the admin pages; the domain checks live in survey.services.enrolment."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import flash, redirect, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import EqualTo

from instruments.languages import ENGLISH_NAMES
from survey.models import Role, StaffRole
from survey.services.errors import InputError, Problem
from survey.web import commit_after

T = TypeVar("T")


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""


class ImportForm(FlaskForm):
    """Upload a participants CSV."""

    file = FileField("Participants file (CSV)", validators=[FileRequired("Choose a CSV file.")])


ROLE_CHOICES = [SelectChoice(role.value, role.value.replace("_", " ").capitalize()) for role in Role]


CHANNEL_CHOICES = [
    SelectChoice("", "Email if there is an address, otherwise text"),
    SelectChoice("email", "Email"),
    SelectChoice("sms", "Text message"),
    SelectChoice("both", "Email and text message"),
]

LANGUAGE_CHOICES = [
    SelectChoice("", "The study's default"),
    *(SelectChoice(code, name) for code, name in ENGLISH_NAMES.items()),
]


class ParticipantForm(FlaskForm):
    """Add or edit one participant (team, role, anchor date and contact details)."""

    external_id = StringField("Trust's own id (external_id)")
    email = StringField("Email")
    name = StringField("Name (optional)")
    role = SelectField("Role", choices=ROLE_CHOICES)
    team_code = SelectField("Team", choices=[])
    anchor_date = StringField("Anchor date (start in role or enrolment), YYYY-MM-DD")
    mobile = StringField("Mobile number (optional, for text messages)")
    channel = SelectField("Invitations and reminders by", choices=CHANNEL_CHOICES, default="")
    language = SelectField("Language of their survey pages, emails and texts", default="",
                           choices=LANGUAGE_CHOICES)


# --- Trusts, teams and staff accounts (administrators only) ------------------------------------
# The checks (code form, uniqueness, password length, trust scope) live in survey.services.
# organisations and survey.services.staff, shared with the CLI; these forms only carry the values.


def show_problems(form: FlaskForm, problems: Iterable[Problem]) -> None:
    """Attach a service's problems to the form's fields (the input as a whole: the form's own)."""
    for problem in problems:
        field = getattr(form, problem.field or "", None)
        if field is not None:
            field.errors = [*field.errors, problem.message]
        else:
            form.form_errors.append(problem.message)


def form_problems(form: FlaskForm) -> list[Problem]:
    """Every error now on the form, for the summary at the top of the page."""
    return [Problem(name, message) for name, messages in form.errors.items() for message in messages]


def save_or_show(form: FlaskForm, action: Callable[[], T], done: Callable[[T], str],
                 next_endpoint: str, **url_values: Any) -> WerkzeugResponse | None:
    """Run a service call: commit, flash `done(result)` and redirect; or roll back and show why.

    Returns None when the service refused the input (its problems are now on the form).
    """
    try:
        result = commit_after(action)
    except InputError as exc:
        show_problems(form, exc.problems)
        return None
    flash(done(result), "info")
    return redirect(url_for(next_endpoint, **url_values))


class TrustForm(FlaskForm):
    """Add a trust."""

    code = StringField("Code (2–40 letters, digits or hyphens)")
    name = StringField("Name")


class TeamEditForm(FlaskForm):
    """A team's name and service type."""

    name = StringField("Team name")
    service_type = StringField("Service type (optional, e.g. community, crisis, inpatient)")


class TeamForm(TeamEditForm):
    """Add a team to a trust."""

    trust = SelectField("Trust", choices=[])
    code = StringField("Team code (2–40 letters, digits or hyphens)")


STAFF_ROLE_CHOICES = [SelectChoice(role.value, role.value.replace("_", " ").capitalize())
                      for role in StaffRole]


class StaffRoleForm(FlaskForm):
    """A staff account's role, and its trust for trust monitors."""

    role = SelectField("Role", choices=STAFF_ROLE_CHOICES)
    trust = SelectField("Trust (trust monitors only)", choices=[])


class StaffAccountForm(StaffRoleForm):
    """Add a staff account with an initial password typed twice."""

    email = EmailField("Email")
    password = PasswordField("Initial password (at least 12 characters)")
    password_again = PasswordField(
        "Initial password again",
        validators=[EqualTo("password", message="The two passwords are not the same.")],
    )


class AuditFilterForm(FlaskForm):
    """Filter the audit log by action (a GET form, so no CSRF token)."""

    class Meta:
        csrf = False

    action = SelectField("Action", choices=[])
