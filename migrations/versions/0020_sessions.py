"""Server-side staff sessions: signing out, expiry and an account's reset end them on the server.

staff_session holds one row per signed-in session (the SHA-256 of the random token in the
session cookie, the account, when it began, was last seen and ended, and why it ended).
Sessions signed in before this migration named the account token instead: they end, and
their staff sign in again.

Revision ID: 0020_sessions
Revises: 0019_offline
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import survey.db

revision = "0020_sessions"
down_revision = "0019_offline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("staff_session",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("token_hash", sa.String(length=64), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("created_at", survey.db.UTCDateTime(), nullable=False),
    sa.Column("last_seen_at", survey.db.UTCDateTime(), nullable=False),
    sa.Column("ended_at", survey.db.UTCDateTime(), nullable=True),
    sa.Column("ended_reason", sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                            name=op.f("fk_staff_session_user_id_user_account"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
    sa.UniqueConstraint("token_hash", name=op.f("uq_staff_session_token_hash"))
    )
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_session_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_session_user_id"))
    op.drop_table("staff_session")
