"""The job ledger partitioned by day on PostgreSQL: partitions made ahead, old ones dropped whole.

`bookjobs_jobs` is partitioned by RANGE (enqueued_at), one partition per UTC day named
`bookjobs_jobs_pYYYYMMDD`, plus a DEFAULT partition for any row whose day has none (a sender's
clock far ahead, a day whose partition was dropped): no write ever fails for want of a partition.
A message keeps its enqueue time through retries and redeliveries, so each job stays one row in
one partition. SQLite (the embedded default) keeps one plain table; every function here then
does nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, column, insert, not_, or_, select, table, text

from domain.models.base import UTCDateTime, utcnow
from domain.models.jobs import Job, JobStatus

logger = logging.getLogger(__name__)

TABLE = Job.__tablename__
DEFAULT_PARTITION = f"{TABLE}_default"
#: Days ahead of today that always have a partition (the scheduler tops them up daily).
DAYS_AHEAD = 7
#: Final states kept `Retention.days`; dead jobs are kept longer (`Retention.dead_days`).
GONE_AFTER_DAYS = (JobStatus.DONE, JobStatus.SKIPPED, JobStatus.CANCELLED)
#: One row if the ledger in the connection's schema is a partitioned table.
IS_PARTITIONED = (
    "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
    f"WHERE c.relname = '{TABLE}' AND c.relnamespace = current_schema()::regnamespace"
)


@dataclass(frozen=True)
class Retention:
    """What may go: finished rows last changed `days` ago, dead ones `dead_days` ago."""

    days: int = 30
    dead_days: int = 90

    def expired(self, now: datetime) -> ColumnElement[bool]:
        """A WHERE condition true for the rows this retention lets go, on the unqualified columns
        `status` and `updated_at` of whichever ledger table it is used with."""
        status, updated_at = column("status"), column("updated_at", UTCDateTime)
        return or_(
            status.in_([s.value for s in GONE_AFTER_DAYS]) & (updated_at < now - timedelta(days=self.days)),
            (status == JobStatus.DEAD.value) & (updated_at < now - timedelta(days=self.dead_days)),
        )


def partition_name(day: date) -> str:
    return f"{TABLE}_p{day:%Y%m%d}"


def day_of(name: str) -> date | None:
    """The day of a partition named by `partition_name`, None for any other table."""
    prefix = f"{TABLE}_p"
    if not name.startswith(prefix):
        return None
    try:
        return datetime.strptime(name.removeprefix(prefix), "%Y%m%d").date()
    except ValueError:
        return None


def is_partitioned(connection: Connection) -> bool:
    """True if this database's ledger is a partitioned table (PostgreSQL after migration 0014)."""
    if connection.dialect.name != "postgresql":
        return False
    return connection.execute(text(IS_PARTITIONED)).first() is not None


def partition_days(connection: Connection) -> list[date]:
    """The days that have a partition, oldest first."""
    names = connection.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST(:table AS regclass)"
        ),
        {"table": TABLE},
    )
    return sorted(day for day in map(day_of, names) if day is not None)


def create_partitions(connection: Connection, first: date, last: date) -> list[date]:
    """A partition for every day from `first` to `last` that has none; returns the days created.

    Rows of such a day already in the default partition move into the new one (PostgreSQL refuses
    a partition whose rows sit in the default one), in the same transaction as the attach.
    """
    existing = set(partition_days(connection))
    created = []
    day = first
    while day <= last:
        if day not in existing:
            _create_partition(connection, day)
            created.append(day)
        day += timedelta(days=1)
    if created:
        logger.info("Ledger partitions created: %s to %s (%d).", created[0], created[-1], len(created))
    return created


def _create_partition(connection: Connection, day: date) -> None:
    name, start, end = partition_name(day), _bound(day), _bound(day + timedelta(days=1))
    connection.execute(text(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)"))
    connection.execute(
        text(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE enqueued_at >= '{start}' "
            f"AND enqueued_at < '{end}' RETURNING *) INSERT INTO {name} SELECT * FROM moved"
        )
    )
    bounds = f"FOR VALUES FROM ('{start}') TO ('{end}')"
    connection.execute(text(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} {bounds}"))


def ensure_partitions(engine: Engine, *, today: date | None = None, days_ahead: int = DAYS_AHEAD) -> dict:
    """Partitions for today and `days_ahead` days after it (the scheduler's daily job)."""
    today = today or utcnow().date()
    with engine.begin() as connection:
        if not is_partitioned(connection):
            return {"partitioned": False, "created": []}
        created = create_partitions(connection, today, today + timedelta(days=days_ahead))
        days = partition_days(connection)
    return {
        "partitioned": True,
        "created": [day.isoformat() for day in created],
        "partitions": len(days),
        "through": days[-1].isoformat() if days else None,
    }


def drop_expired_partitions(engine: Engine, retention: Retention, *, now: datetime | None = None) -> dict:
    """Drop every day partition whose whole day is older than `retention.days`, instead of
    deleting its rows one by one. Rows the retention still keeps (dead ones younger than
    `dead_days`, unfinished ones, ones finished lately) move to the default partition first,
    where the batched DELETE of `domain.stats.prune_job_history` finds them later."""
    now = now or utcnow()
    last_expired = (now - timedelta(days=retention.days)).date() - timedelta(days=1)
    dropped, kept = [], 0
    with engine.connect() as connection:
        if not is_partitioned(connection):
            return {"partitioned": False, "dropped": [], "kept_rows": 0}
        expired = [day for day in partition_days(connection) if day <= last_expired]
    for day in expired:  # one transaction per partition: a long list never holds its locks for long
        with engine.begin() as connection:
            kept += _drop_partition(connection, day, retention, now)
        dropped.append(day.isoformat())
    if dropped:
        logger.info("Ledger partitions dropped: %s (%d rows kept).", ", ".join(dropped), kept)
    return {"partitioned": True, "dropped": dropped, "kept_rows": kept}


def _drop_partition(connection: Connection, day: date, retention: Retention, now: datetime) -> int:
    name = partition_name(day)
    connection.execute(text(f"ALTER TABLE {TABLE} DETACH PARTITION {name}"))
    # Its day has no partition now: what is inserted through the parent lands in the default one.
    names = [c.name for c in Job.__table__.columns]
    detached = table(name, *(column(n) for n in names))
    kept_rows = select(*detached.c).where(not_(retention.expired(now)))
    kept = connection.execute(insert(Job.__table__).from_select(names, kept_rows)).rowcount
    connection.execute(text(f"DROP TABLE {name}"))
    return kept


def _bound(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat()
