"""Emptying a queue's ready, delayed or dead messages (its depths: `broker.queue_depths`)."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name, xq_name

from broker.inspect import BrokerInspector
from broker.queue_depths import queue_counts, queue_names

__all__ = ["purge", "queue_counts", "queue_names"]


def purge(broker: dramatiq.Broker, broker_url: str, name: str, *, tab: str) -> int:
    """Empty one queue's ready (`standard`), delayed or dead (`failed`) messages; returns how many."""
    target = {"standard": name, "delayed": dq_name(name), "failed": xq_name(name)}[tab]
    if isinstance(broker, StubBroker):
        if tab == "failed":
            count = len(broker.dead_letters_by_queue.get(name, ()))
            broker.dead_letters_by_queue.pop(name, None)
            return count
        if target not in broker.queues:
            return 0
        count = broker.queues[target].qsize()
        broker.flush(target)
        return count
    with BrokerInspector(broker_url) as inspector:
        return inspector.purge(target)
