"""Indexes the dashboard's queue pages need: newest jobs of a queue, whatever their status.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_bookjobs_jobs_queue_enqueued", "bookjobs_jobs", ["queue_name", "enqueued_at"])


def downgrade() -> None:
    op.drop_index("ix_bookjobs_jobs_queue_enqueued", table_name="bookjobs_jobs")
