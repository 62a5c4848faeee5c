"""Helpers shared by the admin views."""

from __future__ import annotations

from flask import abort

from survey.db import get_session
from survey.models import StaffRole, Study
from survey.services import studies

STAFF = (StaffRole.ADMIN, StaffRole.RESEARCHER)


def study_or_404(code: str) -> Study:
    """The study with this code, or a 404 page."""
    study = studies.by_code(get_session(), code)
    if study is None:
        abort(404)
    return study
