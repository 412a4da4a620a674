"""What each worker process holds unstarted, and its resident memory (`bookjobs inspect`).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.models.base import JSONType

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookjobs_workers") as batch:
        batch.add_column(sa.Column("reserved", JSONType))
        batch.add_column(sa.Column("rss_mb", sa.Float))


def downgrade() -> None:
    with op.batch_alter_table("bookjobs_workers") as batch:
        batch.drop_column("rss_mb")
        batch.drop_column("reserved")
