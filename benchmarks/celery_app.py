"""Celery 5 for the comparison, on the same RabbitMQ (install with `pip install -e '.[bench]'`).

BENCH_BROKER_URL=amqp://... celery -A benchmarks.celery_app worker --pool threads --concurrency 8
"""

from __future__ import annotations

import os

from celery import Celery

CELERY_QUEUE = "bench-celery"
app = Celery("bench", broker=os.environ.get("BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/"))
app.conf.update(
    task_default_queue=CELERY_QUEUE,
    task_acks_late=True,  # ack after the task, as bookjobs and dramatiq do
    worker_prefetch_multiplier=4,
    broker_transport_options={"confirm_publish": True},
    task_ignore_result=True,
    worker_hijack_root_logger=False,
)


@app.task(name="bench.noop")
def celery_noop(index: int) -> None:
    """Do nothing."""


def _main() -> None:
    """`python -m benchmarks.celery_app fill N` (no confirms) or `send N` (confirms; prints the rate)."""
    import sys
    import time

    command, count = sys.argv[1], int(sys.argv[2])
    if command == "fill":
        app.conf.broker_transport_options = {}
    start = time.perf_counter()
    for index in range(count):
        celery_noop.delay(index)
    print(count / (time.perf_counter() - start))


if __name__ == "__main__":
    _main()
