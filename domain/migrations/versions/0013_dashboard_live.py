"""The dashboard as a daily tool: job progress, search indexes (trigram, newest first across queues),
per-actor hourly rollups and queue depth samples.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

from domain.models.base import JSONType, UTCDateTime
from domain.models.jobs import SEARCH_INDEXED, SEARCH_TEXT

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

logger = logging.getLogger(__name__)


def upgrade() -> None:
    with op.batch_alter_table("bookjobs_jobs") as batch:
        batch.add_column(sa.Column("progress_done", sa.Integer))
        batch.add_column(sa.Column("progress_total", sa.Integer))
        batch.add_column(sa.Column("progress_note", sa.String(200)))
    op.create_index("ix_bookjobs_jobs_enqueued", "bookjobs_jobs", ["enqueued_at"])
    if op.get_bind().dialect.name == "postgresql":
        _search_index()
    op.create_table(
        "bookjobs_actor_hours",
        sa.Column("actor_name", sa.String(200), primary_key=True),
        sa.Column("hour", UTCDateTime, primary_key=True),
        sa.Column("done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("dead", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cancelled", sa.Integer, nullable=False, server_default="0"),
        sa.Column("skipped", sa.Integer, nullable=False, server_default="0"),
        sa.Column("retried", sa.Integer, nullable=False, server_default="0"),
        sa.Column("timed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("duration_sum_ms", sa.Float, nullable=False, server_default="0"),
        sa.Column("duration_max_ms", sa.Float),
        sa.Column("histogram", JSONType, nullable=False),
    )
    op.create_table(
        "bookjobs_rollups",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("through", UTCDateTime, nullable=False),
    )
    op.create_table(
        "bookjobs_queue_samples",
        sa.Column("queue_name", sa.String(200), primary_key=True),
        sa.Column("sampled_at", UTCDateTime, primary_key=True),
        sa.Column("ready", sa.Integer),
        sa.Column("delayed", sa.Integer),
        sa.Column("dead", sa.Integer),
        sa.Column("oldest_age_seconds", sa.Float),
    )
    op.create_index("ix_bookjobs_queue_samples_at", "bookjobs_queue_samples", ["sampled_at"])


def _search_index() -> None:
    """A GIN trigram index on the search text of finished jobs. Only their final row version is
    indexed (one GIN insert per job, not one per state change: the ledger is the hottest table).
    pg_trgm is a trusted extension (PostgreSQL ≥ 13: the database owner may create it); it lives in
    `public` so that dropping one schema never drops it. Without it the search still works, by a scan."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    except sa.exc.DBAPIError as error:
        logger.warning("No pg_trgm (%s): the dashboard's text search scans the ledger.", error.orig)
        return
    op.execute(
        f"CREATE INDEX IF NOT EXISTS ix_bookjobs_jobs_search ON bookjobs_jobs "
        f"USING gin ({SEARCH_TEXT} public.gin_trgm_ops) WHERE {SEARCH_INDEXED}"
    )


def downgrade() -> None:
    op.drop_index("ix_bookjobs_queue_samples_at", table_name="bookjobs_queue_samples")
    op.drop_table("bookjobs_queue_samples")
    op.drop_table("bookjobs_rollups")
    op.drop_table("bookjobs_actor_hours")
    op.execute("DROP INDEX IF EXISTS ix_bookjobs_jobs_search")
    op.drop_index("ix_bookjobs_jobs_enqueued", table_name="bookjobs_jobs")
    with op.batch_alter_table("bookjobs_jobs") as batch:
        batch.drop_column("progress_note")
        batch.drop_column("progress_total")
        batch.drop_column("progress_done")
