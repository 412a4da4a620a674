"""The actor the throughput benchmark drains: it does nothing, so the runtime's own cost shows."""

from __future__ import annotations

import dramatiq

BENCH_QUEUE = "bench"


@dramatiq.actor(queue_name=BENCH_QUEUE, max_retries=0)
def noop(index: int) -> None:
    """Do nothing."""
