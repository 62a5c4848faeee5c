"""The outbox page for admins: messages by status, failures with their last error."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from survey.admin import bp
from survey.admin.paging import paginate
from survey.auth.access import require_role
from survey.db import get_session
from survey.models import Invitation, OutboxMessage, OutboxStatus, StaffRole
from survey.services.outbox import status_counts
from survey.services.receipts import latest_receipts, receipt_counts

PAGE_SIZE = 50


@bp.route("/outbox")
@require_role(StaffRole.ADMIN)
def outbox() -> str:
    """Counts by status, failed messages a page at a time and delivery receipts (no addresses)."""
    db = get_session()
    failed, page = paginate(
        db,
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.id.desc()),
        PAGE_SIZE,
    )
    receipts = latest_receipts(db)
    invitation_ids = [msg.invitation_id for msg in (*failed, *receipts)
                      if msg.invitation_id is not None]
    invitations = {
        inv.id: inv
        for inv in db.scalars(
            select(Invitation).where(Invitation.id.in_(invitation_ids)).options(
                joinedload(Invitation.participant), joinedload(Invitation.wave)
            )
        )
    }
    retrying = list(
        db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts > 0)
            .order_by(OutboxMessage.next_attempt_at)
            .limit(50)
        )
    )
    return render_template(
        "admin/outbox.html", counts=status_counts(db), failed=failed, invitations=invitations,
        retrying=retrying, receipts=receipts, receipt_counts=receipt_counts(db), page=page,
    )
