"""The ledger-on drain of this tree beside that of another git revision, in one run.

    python -m benchmarks.revision_drain --baseline REV [--jobs 20000] [--repeat 3]

For a change on the hot path (the boundary check of every body, the duplicate check's bookkeeping)
the question is what it costs against the code before it, on this machine, now: both trees drain
the same no-op jobs from the same RabbitMQ into the same PostgreSQL, rounds interleaved, medians
reported. The baseline runs from a temporary `git worktree` of REV.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.services import REPO_ROOT
from benchmarks.throughput import bench_services, bookjobs_drain


@contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """A checkout of `revision` in a temporary folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="bookjobs-baseline-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(folder), revision], cwd=REPO_ROOT, check=True)
    try:
        yield folder
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=REPO_ROOT, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", required=True, help="git revision to compare with")
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rates: dict[tuple[str, int], list[float]] = {}
    with worktree(args.baseline) as baseline, bench_services() as (url, database_url, _broker, _body):
        trees = [(f"baseline {args.baseline}", baseline), ("this tree", REPO_ROOT)]
        for round_number in range(args.repeat):
            order = trees if round_number % 2 == 0 else trees[::-1]
            for processes in (1, 2):
                for label, root in order:
                    rate = bookjobs_drain(url, database_url, args.jobs, processes, True, source_root=root)
                    rates.setdefault((label, processes), []).append(rate)
                    print(
                        f"round {round_number + 1}, {processes} proc, {label}: {rate:,.0f} jobs/s", flush=True
                    )
    print(f"\nledger-on drain, {args.jobs} jobs, 8 threads a process, medians of {args.repeat} rounds:")
    for processes in (1, 2):
        base = statistics.median(rates[(trees[0][0], processes)])
        new = statistics.median(rates[("this tree", processes)])
        print(f"  {processes} proc: baseline {base:,.0f}/s, this tree {new:,.0f}/s, ratio {new / base:.3f}")


if __name__ == "__main__":
    main()
