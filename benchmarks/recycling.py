"""What worker recycling costs, and that it loses and repeats nothing, in one run.

    python -m benchmarks.recycling [--jobs 20000] [--max-jobs 500] [--repeat 3]

`record_effect` jobs (one row per run, in the job's own transaction) drained by 2 worker processes
of 8 threads, with and without `--max-jobs-per-child`, rounds interleaved, medians reported; after
each drain the runs are counted: every job exactly once, or the script says how many were not.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import func, select

from benchmarks import services
from broker import runtime
from broker.send_many import send_many
from broker.settings import Settings
from domain import db


def counts() -> tuple[int, int]:
    """(runs, distinct message ids) recorded so far."""
    import tests.support.actors as test_actors

    runs = test_actors.runs.c
    with db.session_scope() as session:
        return session.execute(select(func.count(), func.count(runs.message_id.distinct()))).one()


def drain(url: str, database_url: str, jobs: int, max_jobs: int) -> tuple[float, int, int]:
    """Jobs per second, runs and distinct jobs of one drain."""
    import tests.support.actors as test_actors

    with db.session_scope() as session:
        session.execute(test_actors.runs.delete())
    send_many(test_actors.record_effect, [[f"r{n}", 0.0] for n in range(jobs)])
    env = {"BOOKJOBS_MAX_JOBS_PER_CHILD": str(max_jobs)}
    modules = ("tests.support.actors",)
    started = time.monotonic()  # worker start-up counts: a recycled process pays it again
    with services.workers(
        url, database_url, processes=2, modules=modules, queues=("default",), extra_env=env
    ):
        done_at = services.wait_until(lambda: counts()[1] >= jobs, timeout=600, interval=0.05)
    seconds = done_at - started
    runs, distinct = counts()
    return jobs / seconds, runs, distinct


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--max-jobs", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rates: dict[int, list[float]] = {0: [], args.max_jobs: []}
    with services.vhost() as url, services.schema() as database_url:
        broker = runtime.configure(Settings(broker_url=url, database_url=database_url))
        import tests.support.actors as test_actors  # its actors need the broker configured first

        runtime.rebind_actors(broker, [test_actors.record_effect])
        test_actors.create_tables()
        for round_number in range(args.repeat):
            for limit in (0, args.max_jobs) if round_number % 2 == 0 else (args.max_jobs, 0):
                rate, runs, distinct = drain(url, database_url, args.jobs, limit)
                rates[limit].append(rate)
                label = f"--max-jobs-per-child {limit}" if limit else "no recycling"
                print(
                    f"round {round_number + 1}, {label}: {rate:,.0f} jobs/s, {runs} runs of {distinct} jobs"
                )
                if runs != args.jobs or distinct != args.jobs:
                    print(f"  NOT EXACT: {runs - args.jobs:+d} runs, {distinct - args.jobs:+d} jobs")
        broker.close()
    plain, recycled = statistics.median(rates[0]), statistics.median(rates[args.max_jobs])
    print(f"\nmedians: no recycling {plain:,.0f}/s, recycling every {args.max_jobs} {recycled:,.0f}/s")
    print(f"ratio {recycled / plain:.3f}")


if __name__ == "__main__":
    main()
