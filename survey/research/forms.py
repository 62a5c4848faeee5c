"""The model chooser (a GET form: it changes nothing, so it needs no CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, SelectField

BY_CHOICES = [
    SelectChoice("role_group", "Peer workers vs colleagues (time × group)"),
    SelectChoice("role", "Peer workers, colleagues and managers (time × role)"),
    SelectChoice("", "Everyone together (time only)"),
]


class ModelForm(FlaskForm):
    """Scale, comparison, team level and estimation method."""

    class Meta:
        csrf = False

    scale = SelectField("Scale", choices=[])
    by = RadioField("Compare", choices=BY_CHOICES, default="role_group")
    team_level = BooleanField("Add teams as a further level (random intercept per team)")
    method = RadioField("Estimation", choices=[SelectChoice("REML", "REML (estimates)"),
                                               SelectChoice("ML", "ML (for likelihood-ratio tests)")],
                        default="REML")
