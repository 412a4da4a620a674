"""Dashboard pages over a big ledger: overview and queue pages with 1,000,000 job rows.

    python -m benchmarks.dashboard [--rows 1000000] [--repeat 15]

Fills a throw-away PostgreSQL schema with ledger rows (90 % done, some dead, delayed, enqueued and
running, over six queues and ten actors, spread over the last week), then times each page in-process
(FastAPI's test client, no network) twice in one run: without the queue/time index migration 0007
adds, and with it. Prints the median and p95 of each page and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import text

from benchmarks import services

PAGES = {
    "overview": "/",
    "queue standard": "/queues/default/standard",
    "queue failed": "/queues/default/failed",
    "queue filtered by actor": "/queues/default/standard?actor=health_check",
    "queue page 20": "/queues/default/standard?page=20",
    "queue text search": "/queues/default/failed?text=chapter-7",
    "api jobs": "/api/jobs?queue=books&status=dead",
}
INDEX = "ix_bookjobs_jobs_queue_enqueued"

FILL = """
INSERT INTO bookjobs_jobs (message_id, queue_name, actor_name, status, progress, args, kwargs, options,
    priority, retries, enqueued_at, started_at, finished_at, duration_ms, worker_id, result, error_type,
    error_message, updated_at)
SELECT md5(i::text || :seed),
       (ARRAY['default','email','books','images','cleanup','exams'])[1 + i % 6],
       (ARRAY['health_check','send_email','process_chapter','generate_images','close_abandoned_sessions',
              'auto_finish_exam','system_stats','process_book','cleanup_old_images',
              'send_session_reminders'])[1 + i % 10],
       CASE WHEN i % 100 = 0 THEN 'dead' WHEN i % 100 = 1 THEN 'delayed' WHEN i % 100 = 2 THEN 'enqueued'
            WHEN i % 100 = 3 THEN 'running' ELSE 'done' END,
       40, jsonb_build_array('chapter-' || (i % 5000)), '{}'::jsonb, '{}'::jsonb, 0, 0,
       now() - make_interval(secs => i * 0.6), now() - make_interval(secs => i * 0.6 - 0.01),
       CASE WHEN i % 100 > 3 OR i % 100 = 0 THEN now() - make_interval(secs => i * 0.6 - 0.02) END,
       12.5, 'bench:1', '{"ok": true}'::jsonb,
       CASE WHEN i % 100 = 0 THEN 'PermanentError' END,
       CASE WHEN i % 100 = 0 THEN 'Chapter ' || (i % 5000) || ' not found.' END,
       now() - make_interval(secs => i * 0.6 - 0.02)
FROM generate_series(1, :rows) AS i
"""


def timed(client, path: str, repeat: int) -> list[float]:
    client.get(path)  # warm the plan cache and the page cache
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    options = parser.parse_args()

    from fastapi.testclient import TestClient

    from broker.commands.common import load_actors
    from broker.settings import Settings
    from dashboard.app import create_app
    from domain import db

    with services.schema() as database_url:
        settings = Settings(database_url=database_url)
        client = TestClient(create_app(settings, load_actors(settings)))
        started = time.perf_counter()
        with db.get_engine().begin() as connection:
            connection.execute(text(FILL), {"rows": options.rows, "seed": "bench"})
            connection.execute(text("ANALYZE bookjobs_jobs"))
        print(f"\n{options.rows:,} ledger rows written in {time.perf_counter() - started:.0f} s\n")
        results = {}
        for label, ddl in (("without", f"DROP INDEX {INDEX}"), ("with", None)):
            if ddl:
                with db.get_engine().begin() as connection:
                    connection.execute(text(ddl))
            else:
                with db.get_engine().begin() as connection:
                    connection.execute(
                        text(f"CREATE INDEX {INDEX} ON bookjobs_jobs (queue_name, enqueued_at)")
                    )
            results[label] = {name: timed(client, path, options.repeat) for name, path in PAGES.items()}
        print(f"  {'page':<26}{'no index p50':>14}{'index p50':>12}{'index p95':>12}{'ratio':>8}")
        for name in PAGES:
            before = statistics.median(results["without"][name])
            after = statistics.median(results["with"][name])
            p95 = statistics.quantiles(results["with"][name], n=20)[-1]
            print(f"  {name:<26}{before:>11.1f} ms{after:>9.1f} ms{p95:>9.1f} ms{before / after:>7.1f}×")


if __name__ == "__main__":
    main()
