"""Personal API tokens of staff accounts (stored as a SHA-256 hash; the token is shown once).

Revision ID: 0008_api_tokens
Revises: 0007_item_types
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import survey.db

revision = "0008_api_tokens"
down_revision = "0007_item_types"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("api_token",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(length=80), nullable=False),
    sa.Column("token_hash", sa.String(length=64), nullable=False),
    sa.Column("created_at", survey.db.UTCDateTime(), nullable=False),
    sa.Column("last_used_at", survey.db.UTCDateTime(), nullable=True),
    sa.Column("revoked_at", survey.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_api_token_user_id_user_account"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
    sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash"))
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))
    op.drop_table("api_token")
