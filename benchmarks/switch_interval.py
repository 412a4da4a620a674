"""bookjobs workers draining no-op jobs at different GIL switch intervals, side by side, in one run.

    python -m benchmarks.switch_interval [--jobs 30000] [--repeat 5] [--ms 5 10 20]

Each round drains `--jobs` queued jobs once per interval (BOOKJOBS_GIL_SWITCH_MS), ledger on, with 1
and then 2 worker processes of 8 threads; rounds are interleaved so a slow spell of the machine hits
every interval, and medians are printed with each interval's ratio to CPython's own 5 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
from collections.abc import Iterator
from contextlib import contextmanager

from benchmarks.throughput import bench_services, bookjobs_drain

CPYTHON_DEFAULT_MS = "5"


@contextmanager
def switch_interval(ms: str) -> Iterator[None]:
    """Worker processes started inside take BOOKJOBS_GIL_SWITCH_MS=`ms` from this environment."""
    before = os.environ.get("BOOKJOBS_GIL_SWITCH_MS")
    os.environ["BOOKJOBS_GIL_SWITCH_MS"] = ms
    try:
        yield
    finally:
        if before is None:
            del os.environ["BOOKJOBS_GIL_SWITCH_MS"]
        else:
            os.environ["BOOKJOBS_GIL_SWITCH_MS"] = before


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--ms", nargs="+", default=[CPYTHON_DEFAULT_MS, "10", "20"])
    options = parser.parse_args()
    intervals = options.ms if CPYTHON_DEFAULT_MS in options.ms else [CPYTHON_DEFAULT_MS, *options.ms]
    rates: dict[tuple[int, str], list[float]] = {}
    with bench_services() as (url, database_url, _broker, _body):
        for processes in (1, 2):
            for _ in range(options.repeat):
                for ms in intervals:
                    with switch_interval(ms):
                        rate = bookjobs_drain(url, database_url, options.jobs, processes, ledger=True)
                    rates.setdefault((processes, ms), []).append(rate)
    rounds = f"median of {options.repeat} interleaved rounds"
    print(f"\n{options.jobs:,} no-op jobs per drain, ledger on, {rounds}\n")
    for processes in (1, 2):
        base = statistics.median(rates[(processes, CPYTHON_DEFAULT_MS)])
        for ms in intervals:
            runs = rates[(processes, ms)]
            median = statistics.median(runs)
            spread = f"{min(runs):,.0f}–{max(runs):,.0f}"
            print(f"  {processes}p, {ms:>3} ms  {median:>8,.0f} /s  ({spread})   {median / base:.2f} × 5 ms")


if __name__ == "__main__":
    main()
