"""Generated images.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.models.base import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "generated_images",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "description_id", sa.Integer, sa.ForeignKey("descriptions.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("file_path", sa.String(1000)),
        sa.Column("public_url", sa.String(1000)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("size_bytes", sa.Integer),
        sa.Column("generation_ms", sa.Float),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_generated_images_user_created", "generated_images", ["user_id", "created_at"])
    op.create_index(
        "ix_generated_images_description_provider", "generated_images", ["description_id", "provider"]
    )
    op.create_index("ix_generated_images_created", "generated_images", ["created_at"])


def downgrade() -> None:
    op.drop_table("generated_images")
