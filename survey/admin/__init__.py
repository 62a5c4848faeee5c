"""Participants and studies for researchers and admins: enrolment, waves, pause, the outbox."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from survey.admin import outbox, participants, studies  # noqa: E402,F401
