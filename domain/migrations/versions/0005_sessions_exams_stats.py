"""Reading sessions, exams with proctoring and archive, monitoring history.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.models.base import JSONType, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def attempt_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("exam_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("time_limit_minutes", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answers", JSONType, nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("proctoring", JSONType),
        sa.Column("finished_at", UTCDateTime),
    ]


def event_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("attempt_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("details", JSONType, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "reading_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("book_id", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime),
        sa.Column("is_active", sa.Boolean, nullable=False),
        sa.Column("start_position", sa.Integer, nullable=False),
        sa.Column("end_position", sa.Integer),
        sa.Column("pages_read", sa.Integer, nullable=False),
        sa.Column("duration_minutes", sa.Integer),
    )
    op.create_index(
        "ix_reading_sessions_active_started",
        "reading_sessions",
        ["started_at"],
        postgresql_where=sa.text("is_active"),
        sqlite_where=sa.text("is_active"),
    )
    op.create_index("ix_reading_sessions_ended", "reading_sessions", ["ended_at"])
    op.create_table(
        "exams",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("answer_key", JSONType, nullable=False),
        sa.Column("time_limit_minutes", sa.Integer, nullable=False),
    )
    attempts = attempt_columns()
    attempts[1] = sa.Column("exam_id", sa.Integer, sa.ForeignKey("exams.id"), nullable=False)
    op.create_table("exam_attempts", *attempts)
    op.create_index("ix_exam_attempts_status_started", "exam_attempts", ["status", "started_at"])
    events = event_columns()
    events[1] = sa.Column(
        "attempt_id", sa.Integer, sa.ForeignKey("exam_attempts.id", ondelete="CASCADE"), nullable=False
    )
    op.create_table("proctoring_events", *events)
    op.create_index("ix_proctoring_events_attempt", "proctoring_events", ["attempt_id"])
    op.create_index("ix_proctoring_events_occurred", "proctoring_events", ["occurred_at"])
    op.create_table(
        "exam_attempts_archive", *attempt_columns(), sa.Column("archived_at", UTCDateTime, nullable=False)
    )
    op.create_table("proctoring_events_archive", *event_columns())
    op.create_table(
        "system_stats",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("taken_at", UTCDateTime, nullable=False, index=True),
        sa.Column("stats", JSONType, nullable=False),
    )
    op.create_table(
        "daily_stats",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("stats", JSONType, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "daily_stats",
        "system_stats",
        "proctoring_events_archive",
        "exam_attempts_archive",
        "proctoring_events",
        "exam_attempts",
        "exams",
        "reading_sessions",
    ):
        op.drop_table(table)
