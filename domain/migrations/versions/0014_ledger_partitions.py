"""The job ledger partitioned by day on PostgreSQL (see domain/ledger_partitions.py).

The existing table is converted: its indexes are noted and dropped, the table renamed, a table
partitioned by RANGE (enqueued_at) created like it (primary key message_id + enqueued_at, as
PostgreSQL requires the partition key in every unique constraint), a default partition and one
partition per day from the oldest row (at most MAX_DAYS_BACK days ago) to a week ahead, the rows
copied, the old table dropped and the indexes built again, once per partition. It takes about as
long as copying the ledger (roughly 10 s per million rows). SQLite keeps its plain table.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from datetime import timedelta

from alembic import op
from sqlalchemy import text

from domain import ledger_partitions as partitions
from domain.models.base import utcnow

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLE = partitions.TABLE
CONVERTING = f"{TABLE}_converting"
#: Older rows than this go to the default partition rather than get a partition per day each.
MAX_DAYS_BACK = 92


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _rebuild(partitioned=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _rebuild(partitioned=False)


def _rebuild(*, partitioned: bool) -> None:
    """The ledger table built anew, partitioned by day or plain, with the same rows and indexes."""
    bind = op.get_bind()
    indexes = bind.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = :table AND indexname <> :pkey"
        ),
        {"table": TABLE, "pkey": f"{TABLE}_pkey"},
    ).all()
    for name, _ in indexes:
        op.execute(f"DROP INDEX {name}")
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {CONVERTING}")
    op.execute(f"ALTER TABLE {CONVERTING} RENAME CONSTRAINT {TABLE}_pkey TO {CONVERTING}_pkey")
    key = "message_id, enqueued_at" if partitioned else "message_id"
    partitioning = " PARTITION BY RANGE (enqueued_at)" if partitioned else ""
    op.execute(f"CREATE TABLE {TABLE} (LIKE {CONVERTING} INCLUDING DEFAULTS){partitioning}")
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY ({key})")
    if partitioned:
        op.execute(f"CREATE TABLE {partitions.DEFAULT_PARTITION} PARTITION OF {TABLE} DEFAULT")
        today = utcnow().date()
        oldest = bind.scalar(text(f"SELECT min(enqueued_at) FROM {CONVERTING}"))
        first = max(oldest.date() if oldest else today, today - timedelta(days=MAX_DAYS_BACK))
        partitions.create_partitions(bind, first, today + timedelta(days=partitions.DAYS_AHEAD))
    op.execute(f"INSERT INTO {TABLE} SELECT * FROM {CONVERTING}")
    op.execute(f"DROP TABLE {CONVERTING}")
    for _, definition in indexes:  # a partitioned index reads "ON ONLY": built on every partition here
        op.execute(definition.replace(" ON ONLY ", " ON ", 1))
