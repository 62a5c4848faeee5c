"""The staff sign-in form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class CodeForm(FlaskForm):
    """A code from the authenticator app, or a recovery code."""

    code = StringField("Code", validators=[DataRequired(message="Type the code."), Length(max=40)])


class ConfirmForm(FlaskForm):
    """An empty form: a button that posts with the CSRF token."""


class ApiTokenForm(FlaskForm):
    """The name of a new personal API token."""

    name = StringField("Name", validators=[DataRequired(message="Give the token a name."), Length(max=80)])
