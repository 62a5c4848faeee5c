"""The staff landing page: what each role can do from here."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from survey.staff import views  # noqa: E402,F401
