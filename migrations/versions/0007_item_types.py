"""Answers of choice, number and free-text items: a number column and a text column.

Choice answers use the existing whole-number `value`; a number item's answer goes in
`value_number`, a free-text item's in `value_text`. A Likert answer is unchanged: `value`,
with no value at all meaning "does not apply".

Revision ID: 0007_item_types
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_item_types"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("value_number", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("value_text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_column("value_text")
        batch_op.drop_column("value_number")
