"""NLP speed of this tree beside that of another git revision, on the same prose, in one run.

    python -m benchmarks.nlp_revisions --baseline REV [--kb 300] [--book-kb 1000] [--rounds 2]

Both trees read the same Russian prose (this tree's corpus shuffled into paragraphs): KB/s of each
processor alone and of the ensemble on one core (the process pinned to a CPU, BLAS on one thread),
then `process_book` of the same ~1 MB-of-text EPUB with 2 worker processes, from `send` to the book
marked processed. Rounds alternate between the trees; medians are reported. The baseline runs from a
temporary `git worktree` of REV, each tree in its own Python process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from benchmarks.nlp import prose
from benchmarks.revision_drain import worktree
from benchmarks.services import REPO_ROOT

#: Runs inside each tree (PYTHONPATH): its own processors and its own book benchmark, on our prose.
DRIVER = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    import benchmarks.nlp as nlp
    from domain.nlp.ensemble import Mode, default_processors, find_passages

    text = Path(sys.argv[1]).read_text(encoding="utf-8")
    book_text = Path(sys.argv[2]).read_text(encoding="utf-8")
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    processors = default_processors()
    for p in processors:
        find_passages("Прогрев моделей.", Mode.SINGLE, [p])
    rates = {p.name: nlp.kb_per_second(lambda t, p=p: find_passages(t, Mode.SINGLE, [p]), text)
             for p in processors}
    rates["ensemble"] = nlp.kb_per_second(lambda t: find_passages(t, Mode.ENSEMBLE, processors), text)
    os.sched_setaffinity(0, set(range(os.cpu_count())))
    nlp.prose = lambda kilobytes, seed=0: book_text
    seconds, size = nlp.book_wall_time(len(book_text.encode()) // 1024)
    print("RESULT " + json.dumps({"rates": rates, "book_seconds": seconds, "book_bytes": size}))
    """
)


def measure(tree: Path, text_file: Path, book_file: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(text_file), str(book_file)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise SystemExit(f"{tree}: the measurement failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", required=True, help="git revision to compare with")
    parser.add_argument("--kb", type=int, default=300)
    parser.add_argument("--book-kb", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    results: dict[str, list[dict]] = {"baseline": [], "this tree": []}
    with tempfile.TemporaryDirectory() as folder, worktree(options.baseline) as base:
        text_file, book_file = Path(folder) / "prose.txt", Path(folder) / "book.txt"
        text_file.write_text(prose(options.kb), encoding="utf-8")
        book_file.write_text(prose(options.book_kb, seed=11), encoding="utf-8")
        for _ in range(options.rounds):
            for name, tree in (("baseline", base), ("this tree", REPO_ROOT)):
                results[name].append(measure(tree, text_file, book_file))
                print(f"  {name}: {results[name][-1]}", flush=True)
    print(
        f"\nNLP speed, {options.kb} KB of prose on one core, medians of {options.rounds} alternating rounds\n"
    )
    for name, runs in results.items():
        rates = {key: statistics.median(run["rates"][key] for run in runs) for key in runs[0]["rates"]}
        book = statistics.median(run["book_seconds"] for run in runs)
        shown = "  ".join(f"{key} {rate:.0f} KB/s" for key, rate in rates.items())
        print(f"  {name:<10} {shown}  |  process_book, 2 workers: {book:.1f} s")


if __name__ == "__main__":
    main()
