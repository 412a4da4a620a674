"""Suppressed duplicate deliveries per job, and the secret that claims an outbox row.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookjobs_jobs") as batch:
        batch.add_column(sa.Column("duplicates_suppressed", sa.Integer, nullable=False, server_default="0"))
    op.create_index(
        "ix_bookjobs_jobs_duplicates",
        "bookjobs_jobs",
        ["actor_name"],
        postgresql_where=sa.text("duplicates_suppressed > 0"),
        sqlite_where=sa.text("duplicates_suppressed > 0"),
    )
    with op.batch_alter_table("bookjobs_outbox") as batch:
        batch.add_column(sa.Column("claim_secret", sa.String(64)))
    # Rows still waiting for the relay get their secret now, or no worker could ever claim them.
    connection = op.get_bind()
    outbox = sa.table("bookjobs_outbox", sa.column("id"), sa.column("claim_secret"))
    for (row_id,) in connection.execute(sa.select(outbox.c.id).where(outbox.c.claim_secret.is_(None))):
        connection.execute(
            outbox.update().where(outbox.c.id == row_id).values(claim_secret=secrets.token_hex(16))
        )


def downgrade() -> None:
    with op.batch_alter_table("bookjobs_outbox") as batch:
        batch.drop_column("claim_secret")
    op.drop_index("ix_bookjobs_jobs_duplicates", "bookjobs_jobs")
    with op.batch_alter_table("bookjobs_jobs") as batch:
        batch.drop_column("duplicates_suppressed")
