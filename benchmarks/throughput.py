"""Enqueue and drain rates of bookjobs beside raw pika, on the local RabbitMQ, in one run.

    python -m benchmarks.throughput [--jobs 20000] [--sends 2000] [--repeat 1]

Every figure below comes from this one run on one machine, so the ratios are what to read:
ledger on / ledger off (target ≥ 0.8) and bookjobs / raw pika.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import dramatiq
import pika

from benchmarks import services
from benchmarks.noop_actors import BENCH_QUEUE, noop
from benchmarks.services import REPO_ROOT
from broker import runtime
from broker.factory import cluster_urls
from broker.inspect import BrokerInspector
from broker.settings import Settings
from tests.support.ledger import count_by_status

RAW_QUEUE = "raw-bench"
T = TypeVar("T")


def connect(url: str) -> pika.BlockingConnection:
    return pika.BlockingConnection([pika.URLParameters(node) for node in cluster_urls(url)])


def ready_count(url: str, queue: str) -> Callable[[], int]:
    """A probe of `queue`'s ready messages that reconnects (to another node of a cluster) when its
    connection is lost."""
    inspectors: list[BrokerInspector] = []

    def count() -> int:
        for _ in range(20):
            try:
                if not inspectors:
                    inspectors.append(BrokerInspector(url))
                return (inspectors[0].message_count(queue) or (0, 0))[0]
            except (pika.exceptions.AMQPError, OSError):
                inspectors.clear()
                time.sleep(0.5)
        raise TimeoutError(f"cannot count {queue} at {url}")

    return count


def publish_raw(url: str, queue: str, bodies: list[bytes], *, confirm: bool) -> float:
    """Publish `bodies` persistently; returns messages per second."""
    connection = connect(url)
    channel = connection.channel()
    if confirm:
        channel.confirm_delivery()
    properties = pika.BasicProperties(delivery_mode=2, priority=0)
    start = time.perf_counter()
    for body in bodies:
        channel.basic_publish("", queue, body, properties)
    elapsed = time.perf_counter() - start
    connection.close()
    return len(bodies) / elapsed


def raw_consumer(url: str, queue: str) -> None:
    """Consume and ack until the queue has been idle for a second (runs in a child process)."""
    connection = connect(url)
    channel = connection.channel()
    channel.basic_qos(prefetch_count=100)
    for method, _properties, _body in channel.consume(queue, inactivity_timeout=1.0):
        if method is None:
            break
        channel.basic_ack(method.delivery_tag)
    connection.close()


def timed_drain(count: Callable[[], int], total: int, start_consumers: Callable[[], T]) -> tuple[T, float]:
    """Start the consumers; jobs per second from the first delivery until the queue is empty."""
    handle = start_consumers()
    started = services.wait_until(lambda: count() < total, timeout=60)
    finished = services.wait_until(lambda: count() == 0, timeout=600)
    return handle, total / (finished - started)


def raw_drain(url: str, bodies: list[bytes], processes: int) -> float:
    publish_raw(url, RAW_QUEUE, bodies, confirm=False)
    count = ready_count(url, RAW_QUEUE)
    services.wait_until(lambda: count() == len(bodies), timeout=60)
    context = multiprocessing.get_context("fork")

    def start() -> list:
        children = [context.Process(target=raw_consumer, args=(url, RAW_QUEUE)) for _ in range(processes)]
        for child in children:
            child.start()
        return children

    children, rate = timed_drain(count, len(bodies), start)
    for child in children:
        child.join()
    return rate


def bookjobs_drain(
    url: str,
    database_url: str,
    jobs: int,
    processes: int,
    ledger: bool,
    source_root: Path = REPO_ROOT,
    extra_env: dict[str, str] | None = None,
) -> float:
    """Jobs per second `processes` bookjobs workers (of the code under `source_root`) drain."""
    bodies = [noop.message(i).encode() for i in range(jobs)]
    BrokerInspector(url).purge(BENCH_QUEUE)  # what a stopped worker handed back unprocessed
    noop.send(-1)  # declares the queue with dramatiq's arguments (priority, dead-lettering)
    publish_raw(url, BENCH_QUEUE, bodies, confirm=False)
    count = ready_count(url, BENCH_QUEUE)
    services.wait_until(lambda: count() == jobs + 1, timeout=60, what=f"{jobs + 1} ready messages")
    done_before = count_by_status("done")
    # Only the bench queue, as a deployment splits its queues: a worker of `books` would load NLP models.
    with services.workers(
        url,
        database_url,
        processes=processes,
        ledger=ledger,
        queues=(BENCH_QUEUE,),
        source_root=source_root,
        extra_env=extra_env,
    ) as worker:
        _, rate = timed_drain(count, jobs + 1, lambda: worker)
        if ledger:
            services.wait_until(lambda: count_by_status("done") - done_before == jobs + 1, timeout=120)
    return rate


def send_rate(sends: int) -> float:
    start = time.perf_counter()
    for i in range(sends):
        noop.send(i)
    return sends / (time.perf_counter() - start)


@contextmanager
def bench_services() -> Iterator[tuple[str, str, dramatiq.Broker, bytes]]:
    """A vhost and a schema of this run's own, the bench actor bound to them, and one encoded job."""
    with services.vhost() as url, services.schema() as database_url:
        broker = runtime.configure(Settings(broker_url=url, database_url=database_url))
        runtime.rebind_actors(broker, [noop])
        connection = connect(url)
        connection.channel().queue_declare(RAW_QUEUE, durable=True)
        connection.close()
        yield url, database_url, broker, noop.message(0).encode()
        broker.close()


def run_once(jobs: int, sends: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with bench_services() as (url, database_url, _broker, body):
        figures["pika publish, no confirms"] = publish_raw(url, RAW_QUEUE, [body] * jobs, confirm=False)
        figures["pika publish, confirm each"] = publish_raw(url, RAW_QUEUE, [body] * sends, confirm=True)
        BrokerInspector(url).purge(RAW_QUEUE)
        figures["bookjobs send(), confirms, ledger on"] = send_rate(sends)
        BrokerInspector(url).purge(BENCH_QUEUE)
        for processes in (1, 2):
            figures[f"pika consume+ack, {processes} proc"] = raw_drain(url, [body] * jobs, processes)
            for ledger in (False, True):
                label = f"bookjobs drain, {processes} proc x 8 thr, ledger {'on' if ledger else 'off'}"
                figures[label] = bookjobs_drain(url, database_url, jobs, processes, ledger)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=20_000, help="messages drained per measurement")
    parser.add_argument("--sends", type=int, default=2_000, help="messages sent one by one with confirms")
    parser.add_argument("--repeat", type=int, default=1, help="runs; medians are printed")
    options = parser.parse_args()

    runs = [run_once(options.jobs, options.sends) for _ in range(options.repeat)]
    median = {label: statistics.median(run[label] for run in runs) for label in runs[0]}
    print(
        f"\n{options.jobs} jobs drained, {options.sends} sent one by one; median of {options.repeat} run(s)\n"
    )
    for label, rate in median.items():
        print(f"  {label:<48}{rate:>10,.0f} /s")
    print()
    for processes in (1, 2):
        on = median[f"bookjobs drain, {processes} proc x 8 thr, ledger on"]
        off = median[f"bookjobs drain, {processes} proc x 8 thr, ledger off"]
        raw = median[f"pika consume+ack, {processes} proc"]
        print(f"  {processes} proc: ledger on / off = {on / off:.2f}   ledger on / raw pika = {on / raw:.2f}")
    sent = median["bookjobs send(), confirms, ledger on"]
    print(f"  send(): bookjobs / pika confirm-each = {sent / median['pika publish, confirm each']:.2f}")


if __name__ == "__main__":
    main()
