"""Participants and studies for researchers and admins: enrolment, waves, pause, the outbox."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from survey.admin import audit, mail_settings, organisations, outbox, participants, staff_accounts, studies  # noqa: E402,F401
