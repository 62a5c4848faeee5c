"""Languages: each study's default, each participant's language, the language of each response.

Every existing row is English ('en'), the only language there was.

Revision ID: 0010_language
Revises: 0009_sms
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_language"
down_revision = "0009_sms"
branch_labels = None
depends_on = None

COLUMNS = (("study", "default_language"), ("participant", "language"), ("response", "language"))


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(column, sa.String(length=8), server_default="en", nullable=False))


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
