"""Offline-tolerant pages: each response's page revisions, so that a page kept in a browser
while offline and sent again (or late) is stored once and never overwrites a newer save.

Existing responses have saved no page under this rule: an empty object.

Revision ID: 0019_offline
Revises: 0018_preferences
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_offline"
down_revision = "0018_preferences"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("page_revisions", sa.JSON(), server_default=sa.text("'{}'"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("page_revisions")
