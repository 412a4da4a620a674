"""The ledger's batch upsert three ways on the local PostgreSQL, side by side, in one run.

    python -m benchmarks.ledger_writes [--rows 20000] [--batch 25] [--repeat 3]

`values`: psycopg2's execute_values, 21 adapted values a row (the ledger's write until session 3);
`recordset`: one JSON document a batch through jsonb_to_recordset; `prepared`: the same statement
PREPAREd once (what the ledger does now). Client CPU is this process's, PostgreSQL's is its backend's
(/proc), both per row; rounds are interleaved and medians printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from psycopg2.extras import execute_values

from benchmarks import services
from broker.ledger import (
    COLUMNS,
    JSON_COLUMNS,
    PARTITIONED_KEY,
    PREPARED_UPSERT,
    events_json,
    prepare_postgresql,
    recordset_upsert_sql,
    row_values,
    upsert_sql,
)
from domain import db
from domain.models.base import utcnow


def done_event(index: int) -> dict:
    now = utcnow()
    return {
        "message_id": uuid.uuid4().hex,
        "queue_name": "bench",
        "actor_name": "noop",
        "args": [index],
        "kwargs": {},
        "options": {},
        "priority": 0,
        "enqueued_at": now,
        "status": "done",
        "progress": 3,
        "retries": 0,
        "updated_at": now,
        "started_at": now,
        "finished_at": now,
        "duration_ms": 0.1,
        "worker_id": "host:1",
        "result": None,
    }


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def writers(cursor) -> dict[str, Callable[[list[dict]], None]]:
    template = "(" + ", ".join("%s::jsonb" if c in JSON_COLUMNS else "%s" for c in COLUMNS) + ")"
    values_sql = upsert_sql("VALUES %s", conflict=PARTITIONED_KEY)  # execute_values fills in the rows

    def values(events: list[dict]) -> None:
        rows = [row_values(event, sqlite_times=False) for event in events]
        execute_values(cursor, values_sql, rows, template=template, page_size=1000)

    def recordset(events: list[dict]) -> None:
        cursor.execute(recordset_upsert_sql("%s", PARTITIONED_KEY), (events_json(events),))

    def prepared(events: list[dict]) -> None:
        cursor.execute(f"EXECUTE {PREPARED_UPSERT}(%s)", (events_json(events),))

    return {"values": values, "recordset": recordset, "prepared": prepared}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=25, help="events per statement (the ledger's is ~25)")
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    samples: dict[str, list[tuple[float, float]]] = {}
    with services.schema():
        connection = db.get_engine().raw_connection()
        connection.driver_connection.autocommit = True
        cursor = connection.cursor()
        cursor.execute("SET synchronous_commit = off")
        prepare_postgresql(cursor)
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
        for _ in range(options.repeat):
            for name, write in writers(cursor).items():
                events = [done_event(i) for i in range(options.rows)]
                client, server = time.process_time(), process_cpu(backend)
                for start in range(0, len(events), options.batch):
                    write(events[start : start + options.batch])
                client, server = time.process_time() - client, process_cpu(backend) - server
                per_row = 1e6 / options.rows
                samples.setdefault(name, []).append((client * per_row, server * per_row))
        connection.close()
    print(f"\n{options.rows:,} new rows in batches of {options.batch}, median of {options.repeat}\n")
    print(f"  {'write':<12}{'client CPU':>14}{'PostgreSQL CPU':>18}")
    for name, runs in samples.items():
        client = statistics.median(c for c, _ in runs)
        server = statistics.median(s for _, s in runs)
        print(f"  {name:<12}{client:>11.1f} µs{server:>15.1f} µs   per row")


if __name__ == "__main__":
    main()
