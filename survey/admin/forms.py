"""Forms for the admin pages; the domain checks live in survey.services.enrolment."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectChoice, SelectField, StringField

from survey.models import Role


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""


class ImportForm(FlaskForm):
    """Upload a participants CSV."""

    file = FileField("Participants file (CSV)", validators=[FileRequired("Choose a CSV file.")])


ROLE_CHOICES = [SelectChoice(role.value, role.value.replace("_", " ").capitalize()) for role in Role]


class ParticipantForm(FlaskForm):
    """Add or edit one participant (team, role, anchor date and contact details)."""

    external_id = StringField("Trust's own id (external_id)")
    email = StringField("Email")
    name = StringField("Name (optional)")
    role = SelectField("Role", choices=ROLE_CHOICES)
    team_code = SelectField("Team", choices=[])
    anchor_date = StringField("Anchor date (start in role or enrolment), YYYY-MM-DD")
