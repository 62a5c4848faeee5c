"""Operations: job runs, the scheduler heartbeat, and a retention period per study.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import survey.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("started_at", survey.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", survey.db.UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("runner", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
    )
    op.create_index("ix_job_run_job_started_at", "job_run", ["job", "started_at"], unique=False)
    op.create_table(
        "scheduler_heartbeat",
        sa.Column("instance", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", survey.db.UTCDateTime(), nullable=False),
        sa.Column("beat_at", survey.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("instance", name=op.f("pk_scheduler_heartbeat")),
    )
    op.create_index(
        op.f("ix_scheduler_heartbeat_beat_at"), "scheduler_heartbeat", ["beat_at"], unique=False
    )
    with op.batch_alter_table("study", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("study", schema=None) as batch_op:
        batch_op.drop_column("retention_days")
    op.drop_index(op.f("ix_scheduler_heartbeat_beat_at"), table_name="scheduler_heartbeat")
    op.drop_table("scheduler_heartbeat")
    op.drop_index("ix_job_run_job_started_at", table_name="job_run")
    op.drop_table("job_run")
