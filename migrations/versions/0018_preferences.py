"""Respondent preferences and study support pages.

Each participant may choose one question per page and larger text on their survey pages
(both off for everyone so far); each study may name its own support contacts (none so far:
the pages show PeerPulse's default, Samaritans).

Revision ID: 0018_preferences
Revises: 0017_reminders
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_preferences"
down_revision = "0017_reminders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("one_question", sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column("larger_text", sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table("study", schema=None) as batch_op:
        batch_op.add_column(sa.Column("support", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("study", schema=None) as batch_op:
        batch_op.drop_column("support")
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_column("larger_text")
        batch_op.drop_column("one_question")
