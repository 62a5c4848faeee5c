"""Published dashboard snapshots: a wave's figures for a trust, frozen when its answers close.

Revision ID: 0011_disclosure
Revises: 0010_language
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import survey.db

revision = "0011_disclosure"
down_revision = "0010_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("dashboard_snapshot",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("study_id", sa.Integer(), nullable=False),
    sa.Column("wave_id", sa.Integer(), nullable=False),
    sa.Column("organisation_id", sa.Integer(), nullable=False),
    sa.Column("view", sa.Integer(), nullable=False),
    sa.Column("published_at", survey.db.UTCDateTime(), nullable=False),
    sa.Column("figures", sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], name=op.f("fk_dashboard_snapshot_organisation_id_organisation"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["study_id"], ["study.id"], name=op.f("fk_dashboard_snapshot_study_id_study"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["wave_id"], ["wave.id"], name=op.f("fk_dashboard_snapshot_wave_id_wave"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_snapshot")),
    sa.UniqueConstraint("wave_id", "organisation_id", "view", name=op.f("uq_dashboard_snapshot_wave_id_organisation_id_view"))
    )
    with op.batch_alter_table("dashboard_snapshot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dashboard_snapshot_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dashboard_snapshot_study_id"), ["study_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dashboard_snapshot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_snapshot_study_id"))
        batch_op.drop_index(batch_op.f("ix_dashboard_snapshot_organisation_id"))
    op.drop_table("dashboard_snapshot")
