"""Job ledger and worker heartbeats.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.models.base import JSONType, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bookjobs_jobs",
        sa.Column("message_id", sa.String(64), primary_key=True),
        sa.Column("queue_name", sa.String(200), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer, nullable=False),
        sa.Column("args", JSONType, nullable=False),
        sa.Column("kwargs", JSONType, nullable=False),
        sa.Column("options", JSONType, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("retries", sa.Integer, nullable=False),
        sa.Column("enqueued_at", UTCDateTime, nullable=False),
        sa.Column("eta", UTCDateTime),
        sa.Column("started_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("duration_ms", sa.Float),
        sa.Column("worker_id", sa.String(200)),
        sa.Column("result", JSONType),
        sa.Column("error_type", sa.String(200)),
        sa.Column("error_message", sa.Text),
        sa.Column("traceback", sa.Text),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index(
        "ix_bookjobs_jobs_queue_status_enqueued", "bookjobs_jobs", ["queue_name", "status", "enqueued_at"]
    )
    op.create_index("ix_bookjobs_jobs_status_updated", "bookjobs_jobs", ["status", "updated_at"])
    op.create_index("ix_bookjobs_jobs_actor_enqueued", "bookjobs_jobs", ["actor_name", "enqueued_at"])
    op.create_table(
        "bookjobs_workers",
        sa.Column("worker_id", sa.String(200), primary_key=True),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("queues", JSONType, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("last_seen", UTCDateTime, nullable=False),
        sa.Column("in_flight", sa.Integer, nullable=False),
        sa.Column("processed", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bookjobs_workers")
    op.drop_table("bookjobs_jobs")
