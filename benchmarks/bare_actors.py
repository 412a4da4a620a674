"""Bare dramatiq for the comparison: dramatiq's own RabbitmqBroker and default middleware, no bookjobs.

BENCH_BROKER_URL=amqp://... dramatiq benchmarks.bare_actors --processes 1 --threads 8
"""

from __future__ import annotations

import os
import time

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker

BARE_QUEUE = "bench-bare"
dramatiq.set_broker(
    RabbitmqBroker(url=os.environ.get("BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/"))
)


@dramatiq.actor(queue_name=BARE_QUEUE, max_retries=0)
def bare_noop(index: int) -> None:
    """Do nothing."""


@dramatiq.actor(queue_name=BARE_QUEUE, max_retries=0)
def bare_latency(sent_at: float) -> None:
    """Append how long after `sent_at` (time.time()) this job started."""
    with open(os.environ["BENCH_LATENCY_FILE"], "a") as out:
        out.write(f"{time.time() - sent_at}\n")
