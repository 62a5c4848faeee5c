"""respondent: pages saved per response (save and resume)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add response.pages_saved: the ids of the questionnaire pages already saved."""
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('pages_saved', sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )


def downgrade() -> None:
    """Drop response.pages_saved."""
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('pages_saved')
