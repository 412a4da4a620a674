"""Cancelling jobs: when and by whom a cancel was asked.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.models.base import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookjobs_jobs") as batch:
        batch.add_column(sa.Column("cancel_requested_at", UTCDateTime))
        batch.add_column(sa.Column("cancelled_by", sa.String(200)))
    op.create_index(
        "ix_bookjobs_jobs_cancels",
        "bookjobs_jobs",
        ["cancel_requested_at"],
        postgresql_where=sa.text("cancel_requested_at IS NOT NULL"),
        sqlite_where=sa.text("cancel_requested_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_bookjobs_jobs_cancels", table_name="bookjobs_jobs")
    with op.batch_alter_table("bookjobs_jobs") as batch:
        batch.drop_column("cancelled_by")
        batch.drop_column("cancel_requested_at")
