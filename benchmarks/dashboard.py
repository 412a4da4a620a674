"""Every dashboard page and API call over a big ledger, side by side with a baseline revision.

    python -m benchmarks.dashboard [--rows 1000000] [--days 7] [--repeat 15] [--baseline 742256f|none]

Fills a throw-away PostgreSQL schema (migrated by this tree, its ledger partitioned by day over
the days filled) with ledger rows: 90 % done, 1 % dead, some delayed, enqueued and running, six
queues, ten actors, spread evenly over the last `--days` days, arguments
with a chapter number and a Russian word. Then times each request in-process (FastAPI's test
client, no network), first with this tree's code, then with the baseline's (a temporary `git
worktree`, its own Python process, the same rows): median and p95 in milliseconds. A request the
baseline does not serve shows "–".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from benchmarks import services
from benchmarks.revision_drain import worktree

LIVE = {"X-Bookjobs-Live": "1"}
REQUESTS = [
    ("overview", "/", {}),
    ("overview, live regions", "/", LIVE),
    ("queue standard", "/queues/default/standard", {}),
    ("queue standard, live regions", "/queues/default/standard", LIVE),
    ("queue failed", "/queues/default/failed", {}),
    ("queue filtered by actor", "/queues/default/standard?actor=health_check", {}),
    ("queue page 20", "/queues/default/standard?page=20", {}),
    ("queue text in failed", "/queues/default/failed?text=chapter-7", {}),
    ("queue text, rare word", "/queues/books/standard?text=%D0%B8%D0%B7%D1%83%D0%BC%D1%80%D1%83%D0%B4", {}),
    ("queue text, no match", "/queues/books/standard?text=nothing-like-this", {}),
    ("search: word", "/jobs?text=%D0%B8%D0%B7%D1%83%D0%BC%D1%80%D1%83%D0%B4", {}),
    ("search: id prefix", "/jobs?id=c4ca42", {}),
    ("search: rare word, every queue", "/jobs?text=%D0%B8%D0%B7%D1%83%D0%BC%D1%80%D1%83%D0%B4%2042", {}),
    ("search: actor + dead + 1 day", "/jobs?actor=process_chapter&status=dead&since=DAY_AGO", {}),
    ("job page", "/queues/books/standard/JOB_ID", {}),
    ("actors 1h", "/actors?window=1h", {}),
    ("actors 24h", "/actors?window=24h", {}),
    ("actors 7d", "/actors?window=7d", {}),
    ("actor page 7d", "/actors/process_chapter?window=7d", {}),
    ("api actors 7d", "/api/actors?window=7d", {}),
    ("api jobs dead in books", "/api/jobs?queue=books&status=dead", {}),
    ("api jobs text", "/api/jobs?text=%D0%B8%D0%B7%D1%83%D0%BC%D1%80%D1%83%D0%B4", {}),
    ("metrics", "/metrics", {}),
]
WORDS = "ARRAY['туман','берёза','изумруд','крыльцо','сумерки','ветер','камень','ливень','тропа','гроза']"

FILL = f"""
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
       40, jsonb_build_array('chapter-' || (i % 5000), ({WORDS})[1 + i % 10] || ' ' || (i % 997)),
       '{{}}'::jsonb, '{{}}'::jsonb, 0, (i % 7 = 0)::int,
       now() - make_interval(secs => i * :spacing), now() - make_interval(secs => i * :spacing - 0.01),
       CASE WHEN i % 100 > 3 OR i % 100 = 0 THEN now() - make_interval(secs => i * :spacing - 0.02) END,
       5 + (i % 200), 'bench:1', '{{"ok": true}}'::jsonb,
       CASE WHEN i % 100 = 0 THEN 'PermanentError' END,
       CASE WHEN i % 100 = 0 THEN 'Chapter ' || (i % 5000) || ' not found.' END,
       now() - make_interval(secs => i * :spacing - 0.02)
FROM generate_series(1, :rows) AS i
"""


def run_tree(pythonpath: str, database_url: str, requests: list, repeat: int) -> dict:
    job = json.dumps({"database_url": database_url, "requests": requests, "repeat": repeat})
    # Fed on stdin, so that the tree's root (the working directory) comes first on sys.path.
    script = (services.REPO_ROOT / "benchmarks" / "page_timer.py").read_text()
    env = {**os.environ, "PYTHONPATH": pythonpath}
    done = subprocess.run(
        [sys.executable, "-", job], input=script, env=env, cwd=pythonpath, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"The page timer failed in {pythonpath}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--days", type=float, default=6.9, help="how far back the rows go")
    parser.add_argument("--baseline", default="742256f", help="the revision to compare with, or none")
    options = parser.parse_args()

    from domain import db, ledger_partitions

    baseline_tree = worktree(options.baseline) if options.baseline != "none" else nullcontext(None)
    with services.schema() as database_url, baseline_tree as baseline:
        started = time.perf_counter()
        with db.get_engine().begin() as connection:
            today = datetime.now(UTC).date()
            ledger_partitions.create_partitions(connection, today - timedelta(days=options.days + 1), today)
            spacing = options.days * 86400 / options.rows
            connection.execute(text(FILL), {"rows": options.rows, "seed": "bench", "spacing": spacing})
            connection.execute(text("ANALYZE bookjobs_jobs"))
            job_id = connection.scalar(
                text("SELECT message_id FROM bookjobs_jobs WHERE queue_name = 'books' LIMIT 1")
            )
        seconds = time.perf_counter() - started
        print(f"\n{options.rows:,} ledger rows written (indexes included) in {seconds:.0f} s\n")
        day_ago = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() - 86400))
        requests = [
            [label, path.replace("JOB_ID", job_id).replace("DAY_AGO", day_ago), headers]
            for label, path, headers in REQUESTS
        ]
        now = run_tree(str(services.REPO_ROOT), database_url, requests, options.repeat)
        before = run_tree(str(baseline), database_url, requests, options.repeat) if baseline else {}
    print(f"  {'request (p50 / p95 ms)':<32}{'now':>18}{options.baseline:>18}")
    for label, _path, _headers in REQUESTS:
        print(f"  {label:<32}{cell(now[label]):>18}{cell(before.get(label)):>18}")


def cell(samples: list[float] | None) -> str:
    if not samples:
        return "–"
    return f"{statistics.median(samples):.1f} / {statistics.quantiles(samples, n=20)[-1]:.1f}"


if __name__ == "__main__":
    main()
