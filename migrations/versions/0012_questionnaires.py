"""Conditional questions and randomised order: the items a condition hid from each response
("not asked"), and the seed and item order of its randomised pages.

Every existing response was asked every item of its pages in file order: an empty list, no
seed and no order.

Revision ID: 0012_questionnaires
Revises: 0010_language
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_questionnaires"
down_revision = "0011_disclosure"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("items_not_asked", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column("order_seed", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("item_order", sa.JSON(), server_default=sa.text("'{}'"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("item_order")
        batch_op.drop_column("order_seed")
        batch_op.drop_column("items_not_asked")
