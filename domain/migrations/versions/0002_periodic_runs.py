"""Claimed periodic slots.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.models.base import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bookjobs_periodic_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("slot_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(64)),
        sa.Column("claimed_by", sa.String(200), nullable=False),
        sa.Column("claimed_at", UTCDateTime, nullable=False),
        sa.Column("note", sa.Text),
        sa.UniqueConstraint("actor_name", "slot_at", name="uq_bookjobs_periodic_runs_slot"),
    )


def downgrade() -> None:
    op.drop_table("bookjobs_periodic_runs")
