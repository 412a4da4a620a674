"""Live exam sessions, when they are not kept in Redis (`EXAM_SESSION_URL` unset).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.models.base import JSONType, UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exam_sessions",
        # No foreign key: a session may outlive its attempt's archiving until the hourly cleanup.
        sa.Column("attempt_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("ends_at", UTCDateTime, nullable=False),
        sa.Column("payload", JSONType, nullable=False),
    )
    op.create_index("ix_exam_sessions_ends_at", "exam_sessions", ["ends_at"])


def downgrade() -> None:
    op.drop_index("ix_exam_sessions_ends_at", table_name="exam_sessions")
    op.drop_table("exam_sessions")
