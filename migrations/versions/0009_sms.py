"""Text messages: a mobile number and a channel per contact, SMS opt-out, the outbox channel.

A contact now needs an email address or a mobile number (or both), so `email` becomes
nullable under a check constraint. `participant.sms_opted_out_at` records a STOP;
`outbox_message.channel` says which transport delivers a message ("email" for every row
that exists before this revision).

Revision ID: 0009_sms
Revises: 0008_api_tokens
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import survey.db

revision = "0009_sms"
down_revision = "0008_api_tokens"
branch_labels = None
depends_on = None

CHANNEL = sa.Enum("email", "sms", "both", name="channel", native_enum=False, length=20)


def upgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mobile", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("channel", CHANNEL, nullable=False, server_default="email")
        )
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=True)
        batch_op.create_check_constraint(
            "email_or_mobile", "email IS NOT NULL OR mobile IS NOT NULL"
        )
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sms_opted_out_at", survey.db.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=10), nullable=False, server_default="email")
        )


def downgrade() -> None:
    bind = op.get_bind()
    without_email = bind.scalar(sa.text("SELECT count(*) FROM contact WHERE email IS NULL"))
    if without_email:
        raise RuntimeError(
            f"{without_email} participant(s) have a mobile number but no email address; "
            "give them an address or withdraw them before downgrading below 0009_sms"
        )
    op.execute(sa.text("DELETE FROM outbox_message WHERE channel = 'sms'"))
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("channel")
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_column("sms_opted_out_at")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_constraint("email_or_mobile", type_="check")
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=False)
        batch_op.drop_column("channel")
        batch_op.drop_column("mobile")
