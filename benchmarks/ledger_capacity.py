"""How many jobs a second one PostgreSQL ledger can record: 1 and 4 flushers, day-partitioned
ledger beside the plain table (migration 0013), side by side in one run.

    python -m benchmarks.ledger_capacity [--jobs 20000] [--threads 8] [--rounds 3]

A job costs the ledger two writes: the sender's `enqueued` row (an insert, batched freely) and the
worker's final event (an update of that row, urgent: the worker's ack waits for it). Each flusher
is a process with its own `LedgerWriter`, as each worker process has one; `--threads` threads in it
record final events the way worker threads do (one at a time, each waiting until written), so
batches are as large as they are in a worker, not as large as a loop could make them. PostgreSQL
runs on the same machine: both sides share its cores, so the figures are a floor.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from benchmarks import services
from broker.ledger import LedgerWriter
from domain import db
from domain.models.base import utcnow

LAYOUTS = {"partitioned": "head", "plain": "0013"}


def event(message_id: str, status: str, progress: int, enqueued_at: datetime) -> dict:
    now = utcnow()
    return {
        "message_id": message_id,
        "queue_name": "bench",
        "actor_name": "noop",
        "args": [message_id[:8]],
        "kwargs": {},
        "options": {"max_retries": 3},
        "priority": 5,
        "enqueued_at": enqueued_at,  # a message's, in every event of it: the partitioned key
        "status": status,
        "progress": progress,
        "retries": 0,
        "updated_at": now,
        **(FINISHED | {"started_at": now, "finished_at": now} if status == "done" else {}),
    }


FINISHED = {"duration_ms": 1.5, "worker_id": "host:1", "result": 1}


def flusher(url: str, ids: list[str], threads: int, phase: str, enqueued_at: datetime, start, out) -> None:
    """One process: its own LedgerWriter, recording `phase` events for `ids` once `start` is set."""
    db.configure(url)
    writer = LedgerWriter(db.get_engine)
    writer.flush()
    start.wait()
    began = time.perf_counter()
    if phase == "enqueued":  # a sender: events handed over freely, written in batches
        for message_id in ids:
            writer.record(event(message_id, "enqueued", 1, enqueued_at))
        writer.flush(timeout=600)
    else:  # worker threads: each final event waited for, as an ack waits for it

        def work(share: list[str]) -> None:
            for message_id in share:
                writer.record(event(message_id, "done", 3, enqueued_at), urgent=True).wait()

        pool = [threading.Thread(target=work, args=(ids[n::threads],)) for n in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
    out.put(time.perf_counter() - began)
    writer.close()


def run_phase(url: str, shares: list[list[str]], threads: int, phase: str, enqueued_at: datetime) -> float:
    """Rows per second written by len(shares) flusher processes in parallel."""
    context = multiprocessing.get_context("spawn")
    start, out = context.Event(), context.Queue()
    arguments = [(url, share, threads, phase, enqueued_at, start, out) for share in shares]
    processes = [context.Process(target=flusher, args=args) for args in arguments]
    for process in processes:
        process.start()
    time.sleep(3)  # every process connected and idle
    start.set()
    seconds = max(out.get(timeout=900) for _ in processes)
    for process in processes:
        process.join()
    return sum(map(len, shares)) / seconds


@contextmanager
def layouts() -> Iterator[dict[str, str]]:
    with services.schema(LAYOUTS["partitioned"]) as partitioned, services.schema(LAYOUTS["plain"]) as plain:
        yield {"partitioned": partitioned, "plain": plain}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=20_000, help="jobs per round and flusher count")
    parser.add_argument("--threads", type=int, default=8, help="worker threads per flusher process")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    results: dict[tuple[str, int, str], list[float]] = {}
    with layouts() as urls:
        for _ in range(options.rounds):
            for flushers in (1, 4):
                for layout, url in urls.items():  # interleaved: the machine's noise hits both alike
                    ids = [uuid.uuid4().hex for _ in range(options.jobs)]
                    shares = [ids[n::flushers] for n in range(flushers)]
                    enqueued_at = utcnow().replace(microsecond=0)
                    for phase in ("enqueued", "done"):
                        rate = run_phase(url, shares, options.threads, phase, enqueued_at)
                        results.setdefault((layout, flushers, phase), []).append(rate)
    rounds = f"median of {options.rounds}"
    print(f"\n{options.jobs:,} jobs a round, {options.threads} threads a flusher, {rounds}\n")
    print(f"  {'ledger':<13}{'flushers':>9}{'inserts/s':>12}{'finals/s':>11}{'jobs/s':>9}")
    for (layout, flushers, phase), rates in sorted(results.items()):
        if phase != "enqueued":
            continue
        inserts = statistics.median(rates)
        finals = statistics.median(results[(layout, flushers, "done")])
        jobs = 1 / (1 / inserts + 1 / finals)
        print(f"  {layout:<13}{flushers:>9}{inserts:>12,.0f}{finals:>11,.0f}{jobs:>9,.0f}")
    print("\n  jobs/s: both writes of a job on one PostgreSQL, 1 / (1/inserts + 1/finals)")


if __name__ == "__main__":
    main()
