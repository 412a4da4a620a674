"""bookjobs beside bare dramatiq, Celery 5 and raw pika on the same RabbitMQ, in one run.

    python -m benchmarks.compare [--jobs 20000] [--repeat 3] [--sends 2000] [--bulk 20000]

Enqueue: one message at a time with a confirm each (raw pika, bookjobs `send()`, Celery `delay()`
with `confirm_publish`), `send_many` (one wait for confirms per 5,000), and `send_on_commit` (rows
committed in one transaction, then relayed). Drain: no-op jobs already in the queue, consumed by 1 and
2 worker processes of 8 threads each (raw pika: one consumer per process), every contender once per
round, `--repeat` rounds, medians reported. bookjobs prefetches 25 messages per thread on short-job
queues (QueuePolicy); bare dramatiq runs at its default 2 and, for reference, at bookjobs' depth.
Latency: send-to-start of
no-op jobs sent 20 ms apart to an idle worker. Memory: a bookjobs worker process before and after
50,000 jobs. Read the ratios: every figure comes from this one run on this one machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import dramatiq
import pika

from benchmarks import services
from benchmarks.bare_actors import BARE_QUEUE
from benchmarks.celery_app import CELERY_QUEUE
from benchmarks.noop_actors import BENCH_QUEUE, noop
from benchmarks.throughput import (
    RAW_QUEUE,
    bench_services,
    bookjobs_drain,
    publish_raw,
    raw_drain,
    ready_count,
    send_rate,
    timed_drain,
)
from broker.inspect import BrokerInspector
from broker.outbox import send_on_commit
from broker.policy import policy_for
from broker.relay import Relay
from broker.send_many import send_many
from domain import db

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Worker threads per process for every contender's drain.
DRAIN_THREADS = 8


def child_env(url: str, **extra: str) -> dict[str, str]:
    return dict(os.environ, BENCH_BROKER_URL=url, PYTHONPATH=str(REPO_ROOT), **extra)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(60)


# --- enqueue ------------------------------------------------------------------------------------


def send_many_rate(count: int) -> float:
    started = time.perf_counter()
    send_many(noop, [[i] for i in range(count)])
    return count / (time.perf_counter() - started)


def send_on_commit_rate(broker, count: int) -> float:
    started = time.perf_counter()
    with db.session_scope() as session:
        for i in range(count):
            send_on_commit(session, noop, i)
    relay = Relay(broker, batch_size=5_000)
    while relay.relay_once():
        pass
    return count / (time.perf_counter() - started)


def celery_send_rate(url: str, count: int) -> float:
    command = [sys.executable, "-m", "benchmarks.celery_app", "send", str(count)]
    done = subprocess.run(
        command, env=child_env(url), cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


# --- drain --------------------------------------------------------------------------------------


def bare_command(processes: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dramatiq",
        "benchmarks.bare_actors",
        "--processes",
        str(processes),
        "--threads",
        str(DRAIN_THREADS),
        "--skip-logging",
    ]


def bare_drain(url: str, jobs: int, processes: int, prefetch: int | None = None) -> float:
    """Bare dramatiq draining `jobs`; `prefetch` per process overrides dramatiq's 2 per thread."""
    env = child_env(url) if prefetch is None else child_env(url, dramatiq_queue_prefetch=str(prefetch))
    declaring = services.spawn(bare_command(1), env)  # declares the queue with dramatiq's arguments
    count = ready_count(url, BARE_QUEUE)
    services.wait_until(lambda: BrokerInspector(url).message_count(BARE_QUEUE) is not None, timeout=60)
    stop([declaring])
    bodies = [dramatiq.Message(BARE_QUEUE, "bare_noop", (i,), {}, {}).encode() for i in range(jobs)]
    publish_raw(url, BARE_QUEUE, bodies, confirm=False)
    services.wait_until(lambda: count() == jobs, timeout=60)
    workers, rate = timed_drain(count, jobs, lambda: services.spawn(bare_command(processes), env))
    stop([workers])
    return rate


def celery_drain(url: str, jobs: int, processes: int) -> float:
    fill = [sys.executable, "-m", "benchmarks.celery_app", "fill", str(jobs)]
    subprocess.run(fill, env=child_env(url), cwd=REPO_ROOT, capture_output=True, check=True)
    count = ready_count(url, CELERY_QUEUE)
    services.wait_until(lambda: count() == jobs, timeout=60)

    def workers() -> list[subprocess.Popen]:
        return [
            services.spawn(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "benchmarks.celery_app",
                    "worker",
                    "--pool",
                    "threads",
                    "--concurrency",
                    str(DRAIN_THREADS),
                    "-Q",
                    CELERY_QUEUE,
                    "-n",
                    f"bench{n}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel",
                    "WARNING",
                ],
                child_env(url),
            )
            for n in range(processes)
        ]

    started, rate = timed_drain(count, jobs, workers)
    stop(started)
    return rate


# --- latency and memory -------------------------------------------------------------------------


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[94], cuts[98]


def bookjobs_latency(url: str, database_url: str, samples: int) -> tuple[float, float, float]:
    from domain.models.jobs import Job

    with services.workers(url, database_url, processes=1, queues=(BENCH_QUEUE,)):
        time.sleep(4)  # the worker connects and idles
        ids = []
        for i in range(samples):
            ids.append(noop.send(i).message_id)
            time.sleep(0.02)
        time.sleep(1)
    with db.session_scope() as session:
        rows = session.query(Job).filter(Job.message_id.in_(ids)).all()
        return percentiles([(r.started_at - r.enqueued_at).total_seconds() * 1000 for r in rows])


def bare_latency(url: str, samples: int) -> tuple[float, float, float]:
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
        worker = services.spawn(bare_command(1), child_env(url, BENCH_LATENCY_FILE=out.name))
        time.sleep(4)
        parameters = pika.URLParameters(url)
        connection = pika.BlockingConnection(parameters)
        channel = connection.channel()
        channel.confirm_delivery()
        for _ in range(samples):
            body = dramatiq.Message(BARE_QUEUE, "bare_latency", (time.time(),), {}, {}).encode()
            channel.basic_publish("", BARE_QUEUE, body, pika.BasicProperties(delivery_mode=2))
            time.sleep(0.02)
        connection.close()
        time.sleep(1)
        stop([worker])
        return percentiles([float(line) * 1000 for line in out.read().split()])


def worker_memory(url: str, database_url: str, jobs: int) -> tuple[float, float]:
    """RSS (MB) of a bookjobs worker process once idle, and again after draining `jobs` no-op jobs."""
    noop.send(-1)
    count = ready_count(url, BENCH_QUEUE)
    with services.workers(url, database_url, processes=1, queues=(BENCH_QUEUE,)) as main:
        services.wait_until(lambda: count() == 0, timeout=60)
        time.sleep(2)
        child = int(
            subprocess.run(["pgrep", "-P", str(main.pid)], capture_output=True, text=True).stdout.split()[0]
        )
        before = rss_mb(child)
        publish_raw(url, BENCH_QUEUE, [noop.message(i).encode() for i in range(jobs)], confirm=False)
        services.wait_until(lambda: count() == 0, timeout=600)
        time.sleep(2)
        return before, rss_mb(child)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


# --- the run ------------------------------------------------------------------------------------


def run(options: argparse.Namespace) -> dict[str, object]:
    figures: dict[str, object] = {}
    with bench_services() as (url, database_url, broker, body):
        figures["enqueue: raw pika, confirm each"] = publish_raw(
            url, RAW_QUEUE, [body] * options.sends, confirm=True
        )
        figures["enqueue: bookjobs send(), confirm each"] = send_rate(options.sends)
        figures["enqueue: Celery delay(), confirm_publish"] = celery_send_rate(url, options.sends)
        figures["enqueue: bookjobs send_many"] = send_many_rate(options.bulk)
        figures["enqueue: bookjobs send_on_commit + relay"] = send_on_commit_rate(broker, options.bulk)
        for queue in (RAW_QUEUE, BENCH_QUEUE, CELERY_QUEUE):
            BrokerInspector(url).purge(queue)

        deep = DRAIN_THREADS * policy_for(BENCH_QUEUE).prefetch_per_thread
        drains: dict[str, Callable[[int], float]] = {
            "raw pika": lambda p: raw_drain(url, [body] * options.jobs, p),
            "bare dramatiq": lambda p: bare_drain(url, options.jobs, p),
            f"bare dramatiq, prefetch {deep}": lambda p: bare_drain(url, options.jobs, p, prefetch=deep),
            "Celery 5": lambda p: celery_drain(url, options.jobs, p),
            "bookjobs, ledger off": lambda p: bookjobs_drain(url, database_url, options.jobs, p, False),
            "bookjobs, ledger on": lambda p: bookjobs_drain(url, database_url, options.jobs, p, True),
        }
        for processes in (1, 2):
            samples: dict[str, list[float]] = {name: [] for name in drains}
            for _ in range(options.repeat):  # interleaved, so a slow spell of the machine hits them all
                for name, drain in drains.items():
                    samples[name].append(drain(processes))
            for name, rates in samples.items():
                figures[f"drain {processes}p: {name}"] = statistics.median(rates)
                figures[f"spread {processes}p: {name}"] = (min(rates), max(rates))

        figures["latency: bookjobs"] = bookjobs_latency(url, database_url, options.samples)
        figures["latency: bare dramatiq"] = bare_latency(url, options.samples)
        figures["memory: bookjobs worker"] = worker_memory(url, database_url, options.memory_jobs)
    return figures


def report(f: dict[str, object], options: argparse.Namespace) -> None:
    print(
        f"\n{options.jobs:,} jobs per drain (median of {options.repeat}, range in brackets), "
        f"{options.sends:,} single sends, {options.bulk:,} bulk sends\n"
    )
    for label, value in f.items():
        if label.startswith("enqueue"):
            print(f"  {label:<46}{value:>10,.0f} /s")
        elif label.startswith("drain"):
            low, high = f[label.replace("drain", "spread", 1)]
            print(f"  {label:<46}{value:>10,.0f} /s   ({low:,.0f}–{high:,.0f})")
    for label in ("latency: bookjobs", "latency: bare dramatiq"):
        p50, p95, p99 = f[label]
        print(f"  {label:<46}p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms")
    before, after = f["memory: bookjobs worker"]
    jobs = f"{options.memory_jobs:,}"
    label = "memory: bookjobs worker process (RSS)"
    print(f"  {label:<46}{before:.0f} MB idle, {after:.0f} MB after {jobs} jobs")
    print("\n  ratios")

    def ratio(text: str, top: str, bottom: str, target: str = "") -> None:
        print(f"    {text:<46}{f[top] / f[bottom]:6.2f} ×  {target}")

    single = "enqueue: bookjobs send(), confirm each"
    ratio("send_many / send() confirm each", "enqueue: bookjobs send_many", single, "(target ≥ 5)")
    ratio("send_on_commit + relay / send()", "enqueue: bookjobs send_on_commit + relay", single)
    ratio("send() / Celery delay()", single, "enqueue: Celery delay(), confirm_publish")
    for p in (1, 2):
        on, off = f"drain {p}p: bookjobs, ledger on", f"drain {p}p: bookjobs, ledger off"
        ratio(f"{p}p drain, ledger on / Celery", on, f"drain {p}p: Celery 5", "(target ≥ 1.5)")
        ratio(f"{p}p drain, ledger on / bare dramatiq", on, f"drain {p}p: bare dramatiq", "(target ≥ 0.8)")
        ratio(f"{p}p drain, ledger off / bare dramatiq", off, f"drain {p}p: bare dramatiq")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--sends", type=int, default=2_000)
    parser.add_argument("--bulk", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--memory-jobs", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of every drain")
    options = parser.parse_args()
    report(run(options), options)


if __name__ == "__main__":
    main()
