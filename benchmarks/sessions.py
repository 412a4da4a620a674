"""Closing abandoned reading sessions on PostgreSQL: one set-based UPDATE beside a row-by-row ORM loop.

    python -m benchmarks.sessions [--rows 1000000] [--abandoned 100000] [--loop-rows 5000]

The UPDATE closes all `--abandoned` sessions among `--rows`; the ORM loop (load each row, set its
fields, flush) closes `--loop-rows` of a second identical set, and its per-row time is extrapolated.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from sqlalchemy import select, text

from benchmarks import services
from domain import db
from domain import reading as reading_service
from domain.models.base import utcnow
from domain.models.reading import ReadingSession


def fill(rows: int, abandoned: int) -> None:
    """`rows` sessions, `abandoned` of them active and started 3 hours ago (generate_series, fast)."""
    with db.get_engine().begin() as connection:
        connection.execute(
            text(
                """
                INSERT INTO reading_sessions (user_id, book_id, started_at, ended_at, is_active,
                                              start_position, end_position, pages_read, duration_minutes)
                SELECT g % 5000, g % 300,
                       now() - CASE WHEN g <= :abandoned THEN interval '3 hours'
                                    ELSE interval '30 minutes' END,
                       CASE WHEN g > :abandoned AND g % 2 = 0 THEN now() ELSE NULL END,
                       NOT (g > :abandoned AND g % 2 = 0), g % 100, g % 100 + 5, 3, NULL
                FROM generate_series(1, :rows) AS g
                """
            ),
            {"rows": rows, "abandoned": abandoned},
        )
        connection.execute(text("ANALYZE reading_sessions"))


def orm_loop(limit: int) -> float:
    """Seconds per row for the Celery original's way: load each abandoned row and update it."""
    now = utcnow()
    start = time.perf_counter()
    with db.session_scope() as session:
        rows = session.scalars(
            select(ReadingSession)
            .where(ReadingSession.is_active.is_(True), ReadingSession.started_at < now - timedelta(hours=2))
            .limit(limit)
        )
        for row in rows:
            row.is_active, row.ended_at = False, now
            row.duration_minutes = int((now - row.started_at).total_seconds() // 60)
            row.end_position = row.end_position or row.start_position
            session.flush()
    return (time.perf_counter() - start) / limit


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--abandoned", type=int, default=100_000)
    parser.add_argument("--loop-rows", type=int, default=5_000)
    options = parser.parse_args()
    with services.schema():
        fill(options.rows, options.abandoned)
        with db.session_scope() as session:
            result = reading_service.close_abandoned(session)
        assert result.closed_count == options.abandoned, result
        fill(options.rows, options.abandoned)  # a fresh abandoned set for the loop
        per_row = orm_loop(options.loop_rows)
    loop_total = per_row * options.abandoned
    print(f"\n{options.abandoned:,} abandoned sessions among {options.rows:,} rows (PostgreSQL)\n")
    print(f"  one UPDATE (close_abandoned)      {result.execution_time_ms / 1000:>8.2f} s")
    print(
        f"  row-by-row ORM loop (extrapolated){loop_total:>8.2f} s  ({per_row * 1e6:.0f} µs a row over "
        f"{options.loop_rows:,} rows)"
    )
    print(f"\n  set-based is {loop_total / (result.execution_time_ms / 1000):.0f} × faster")


if __name__ == "__main__":
    main()
