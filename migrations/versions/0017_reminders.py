"""Opting out of emails, one-click unsubscribe links, and "remind me later".

participant gains when they asked for no more emails; outbox_message gains an email's
List-Unsubscribe URL (cleared once sent, like the bodies); invitation gains the time a
respondent chose for their next reminder. Existing rows: no opt-out, no link, no chosen time.

Revision ID: 0017_reminders
Revises: 0014_messaging
"""

from __future__ import annotations

import sqlalchemy as sa
import survey.db
from alembic import op

revision = "0017_reminders"
down_revision = "0014_messaging"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_opted_out_at", survey.db.UTCDateTime(), nullable=True))
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unsubscribe_url", sa.Text(), nullable=True))
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remind_at", survey.db.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_invitation_remind_at"), ["remind_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_remind_at"))
        batch_op.drop_column("remind_at")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("unsubscribe_url")
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_column("email_opted_out_at")
