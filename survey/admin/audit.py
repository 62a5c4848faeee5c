"""The audit log for administrators: the latest events, newest first, filterable by action."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from flask import render_template, request
from sqlalchemy import select
from wtforms import SelectChoice

from survey.admin import bp
from survey.admin.forms import AuditFilterForm
from survey.admin.paging import paginate
from survey.auth.access import require_role
from survey.db import get_session
from survey.models import AuditEvent, StaffRole, User

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditRow:
    """One event as shown: UTC time in ISO 8601, actor, action, target (staff by email), detail."""

    when: str
    actor: str
    action: str
    target: str
    detail: list[tuple[str, str]]


def _show(value: object) -> str:
    """A detail value as text: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _row(event: AuditEvent, staff_emails: dict[str, str]) -> AuditRow:
    target = " ".join(part for part in (event.target_type, event.target_id) if part)
    if event.target_type == "user" and event.target_id in staff_emails:
        target = f"{target} ({staff_emails[event.target_id]})"
    return AuditRow(
        when=event.at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        actor=event.actor,
        action=event.action,
        target=target or "–",
        detail=[(str(key), _show(value)) for key, value in sorted((event.detail or {}).items())],
    )


@bp.route("/audit")
@require_role(StaffRole.ADMIN)
def audit() -> str:
    """The audit events (of one action if chosen), newest first, a page at a time."""
    db = get_session()
    actions = list(db.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", "All actions"), *(SelectChoice(a, a) for a in actions)]
    chosen = request.args.get("action", "")
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if chosen:
        query = query.where(AuditEvent.action == chosen)
    events, page = paginate(db, query, PAGE_SIZE)
    user_ids = {int(e.target_id) for e in events if e.target_type == "user" and e.target_id.isdigit()}
    staff_emails = {str(user_id): email for user_id, email in
                    db.execute(select(User.id, User.email).where(User.id.in_(user_ids)))}
    rows = [_row(event, staff_emails) for event in events]
    return render_template("admin/audit.html", form=form, rows=rows, chosen=chosen, page=page)
