"""Delivery receipts: what the provider reported about each sent message, and dead contacts.

outbox_message gains receipt (delivered, temporary-failure, permanent-failure), its time and
its address-free detail; contact gains when its email and its mobile number failed for good.
Every existing row has no receipt and working contact details.

Revision ID: 0014_messaging
Revises: 0010_language
"""

from __future__ import annotations

import sqlalchemy as sa
import survey.db
from alembic import op

revision = "0014_messaging"
down_revision = "0012_questionnaires"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "receipt",
            sa.Enum("temporary-failure", "delivered", "permanent-failure", name="receipt",
                    native_enum=False, length=20),
            nullable=True))
        batch_op.add_column(sa.Column("receipt_at", survey.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("receipt_detail", sa.Text(), nullable=True))
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_failed_at", survey.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("mobile_failed_at", survey.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_column("mobile_failed_at")
        batch_op.drop_column("email_failed_at")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("receipt_detail")
        batch_op.drop_column("receipt_at")
        batch_op.drop_column("receipt")
