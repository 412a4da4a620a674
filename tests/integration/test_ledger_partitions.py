"""The ledger partitioned by day on PostgreSQL: the conversion migration, partitions made ahead
(taking in rows that waited in the default partition), and old days dropped whole by the cleanup."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from actors.monitoring import create_ledger_partitions
from broker.cli import main
from broker.ledger import LedgerWriter
from domain import db, migrate
from domain import ledger_partitions as partitions
from domain.models.base import utcnow
from domain.stats import prune_job_history
from tests.conftest import TEST_DATABASE_URL
from tests.support.ledger import job

pytestmark = pytest.mark.integration


def add_rows(connection, prefix: str, count: int, *, days_ago: float, status: str = "done") -> None:
    """`count` ledger rows enqueued and last changed `days_ago` days ago."""
    connection.execute(
        text(
            "INSERT INTO bookjobs_jobs (message_id, queue_name, actor_name, status, progress, args, "
            "kwargs, options, priority, retries, enqueued_at, updated_at) "
            "SELECT :prefix || g, 'default', 'echo', :status, 3, '[]', '{}', '{}', 0, 0, "
            "now() - make_interval(secs => :seconds) - g * interval '1 second', "
            "now() - make_interval(secs => :seconds) FROM generate_series(1, :count) g"
        ),
        {"prefix": prefix, "count": count, "seconds": days_ago * 86400, "status": status},
    )


def where_rows_are(connection) -> dict[str, int]:
    """Rows per partition."""
    rows = connection.execute(text("SELECT tableoid::regclass::text, count(*) FROM bookjobs_jobs GROUP BY 1"))
    return dict(rows.all())


def indexes_of(connection, table: str) -> dict[str, str]:
    """Index name: definition, of `table` in this schema."""
    statement = (
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = :t"
    )
    return dict(connection.execute(text(statement), {"t": table}).all())


@pytest.fixture
def schema_at_0013():
    """An engine on a fresh schema migrated up to 0013: the ledger as a plain table."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    engine = db.configure(f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{schema}")
    migrate.upgrade(engine, "0013")
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_the_conversion_keeps_every_row_and_index_and_can_be_undone(postgres_url, schema_at_0013):
    engine = schema_at_0013
    with engine.begin() as connection:
        add_rows(connection, "recent-", 300, days_ago=2)
        add_rows(connection, "month-", 200, days_ago=29)
        add_rows(connection, "ancient-", 5, days_ago=400)  # beyond MAX_DAYS_BACK: the default partition
        plain_indexes = indexes_of(connection, "bookjobs_jobs")

    upgraded = CliRunner().invoke(main, ["db", "upgrade"], env={"DATABASE_URL": str(engine.url)})

    assert upgraded.exit_code == 0 and "from revision 0013 to 0014" in upgraded.output, upgraded.output
    today = utcnow().date()
    with engine.connect() as connection:
        assert partitions.is_partitioned(connection)
        days = partitions.partition_days(connection)
        assert days[0] == today - timedelta(days=92)  # the oldest row is older than the 92 days made
        assert days[-1] == today + timedelta(days=partitions.DAYS_AHEAD)
        assert days == [days[0] + timedelta(days=n) for n in range(len(days))]  # no gap
        placed = where_rows_are(connection)
        assert sum(placed.values()) == 505
        assert placed[partitions.DEFAULT_PARTITION] == 5
        assert set(placed) <= {partitions.DEFAULT_PARTITION, *map(partitions.partition_name, days)}
        # Every index of the plain table is on the parent and built on each partition; the key
        # now includes the partition key.
        parent = indexes_of(connection, "bookjobs_jobs")
        assert parent.keys() == plain_indexes.keys()
        assert "(message_id, enqueued_at)" in parent["bookjobs_jobs_pkey"]
        assert len(indexes_of(connection, partitions.partition_name(today))) == len(parent)

    downgraded = CliRunner().invoke(main, ["db", "downgrade", "0013"], env={"DATABASE_URL": str(engine.url)})

    assert downgraded.exit_code == 0 and "from revision 0014 to 0013" in downgraded.output, downgraded.output

    with engine.connect() as connection:
        assert not partitions.is_partitioned(connection)
        assert connection.scalar(text("SELECT count(*) FROM bookjobs_jobs")) == 505
        assert indexes_of(connection, "bookjobs_jobs").keys() == plain_indexes.keys()


def test_the_writer_upserts_into_day_partitions_and_a_partition_made_later_takes_its_rows_in(
    postgres_url,
):
    now = utcnow()
    ahead = now + timedelta(days=20)  # a sender's clock far ahead: no partition yet
    writer = LedgerWriter(db.get_engine)
    for message_id, enqueued_at in (("today", now), ("ahead", ahead)):
        event = {
            "message_id": message_id,
            "queue_name": "default",
            "actor_name": "echo",
            "args": [],
            "kwargs": {},
            "options": {},
            "priority": 0,
            "enqueued_at": enqueued_at,
            "retries": 0,
        }
        writer.record({**event, "status": "enqueued", "progress": 0, "updated_at": now})
        writer.flush()
        writer.record({**event, "status": "done", "progress": 3, "updated_at": now, "result": 1})
    writer.close()

    with db.get_engine().connect() as connection:
        assert where_rows_are(connection) == {
            partitions.partition_name(now.date()): 1,
            partitions.DEFAULT_PARTITION: 1,
        }
    assert job("today").status == job("ahead").status == "done"  # one row each: the upsert met it

    result = create_ledger_partitions.fn(days_ahead=21)

    assert ahead.date().isoformat() in result["created"]
    with db.get_engine().connect() as connection:
        assert where_rows_are(connection)[partitions.partition_name(ahead.date())] == 1
        assert partitions.DEFAULT_PARTITION not in where_rows_are(connection)
    assert create_ledger_partitions.fn(days_ahead=21)["created"] == []  # made once


def test_the_cleanup_drops_old_days_whole_and_keeps_what_retention_still_keeps(postgres_url):
    engine = db.get_engine()
    today = utcnow().date()
    with engine.begin() as connection:
        partitions.create_partitions(connection, today - timedelta(days=100), today)
        add_rows(connection, "old-done-", 50, days_ago=40)
        add_rows(connection, "old-dead-", 3, days_ago=40, status="dead")
        add_rows(connection, "old-waiting-", 2, days_ago=40, status="enqueued")
        add_rows(connection, "ancient-dead-", 4, days_ago=100, status="dead")
        add_rows(connection, "new-done-", 10, days_ago=5)

    result = prune_job_history(db.session_scope, days=30, dead_days=90)  # cleanup_job_history's work

    with engine.connect() as connection:
        days = partitions.partition_days(connection)
        kinds = "regexp_replace(message_id, '-[0-9]+$', '')"
        left = dict(connection.execute(text(f"SELECT {kinds}, count(*) FROM bookjobs_jobs GROUP BY 1")).all())
        placed = where_rows_are(connection)
    cutoff_day = (utcnow() - timedelta(days=30)).date()
    assert days[0] == cutoff_day  # every day wholly before the cutoff is gone
    assert len(result["partitions_dropped"]) == 70
    assert left == {"old-dead": 3, "old-waiting": 2, "new-done": 10}
    assert placed[partitions.DEFAULT_PARTITION] == 5  # the kept old rows, where the DELETE finds them
    assert result["rows_kept_from_dropped"] == 5
