"""The mail settings in use and the outbox counts, read-only, for administrators (never the password)."""

from __future__ import annotations

from flask import current_app, render_template

from survey.admin import bp
from survey.auth.access import require_role
from survey.db import get_session
from survey.messaging.email import MailSettings
from survey.models import StaffRole
from survey.services.outbox import status_counts


def visible_settings(settings: MailSettings) -> list[tuple[str, str]]:
    """The settings an administrator may read, as (label, value); the SMTP password is left out."""
    security = "SSL" if settings.smtp_ssl else "STARTTLS" if settings.smtp_starttls else "none"
    rows = [
        ("Backend", settings.backend),
        ("From address", settings.sender),
        ("SMTP host", settings.smtp_host),
        ("SMTP port", str(settings.smtp_port)),
        ("Encryption (STARTTLS or SSL)", security),
        ("SMTP user set", "yes" if settings.smtp_user else "no"),
        ("SMTP timeout", f"{settings.smtp_timeout:g} seconds"),
    ]
    if settings.backend != "smtp":
        rows.append(("Mail folder (emails are written there as files, not sent)", settings.file_dir))
    return rows


@bp.route("/mail")
@require_role(StaffRole.ADMIN)
def mail() -> str:
    """How mail is sent (from the environment; change it there) and how many emails are in each state."""
    return render_template(
        "admin/mail.html", settings=visible_settings(MailSettings.from_config(current_app.config)),
        counts=status_counts(get_session()),
    )
