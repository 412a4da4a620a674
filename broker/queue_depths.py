"""Queue depths as the broker sees them: passive declares on RabbitMQ, the queues themselves in memory."""

from __future__ import annotations

import logging

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name

from broker.inspect import BrokerInspector, QueueCounts

logger = logging.getLogger(__name__)


def queue_names(broker: dramatiq.Broker) -> list[str]:
    """The queues the declared actors use (not their .DQ / .XQ companions)."""
    return sorted({actor.queue_name for actor in broker.actors.values()})


def queue_counts(broker: dramatiq.Broker, broker_url: str) -> list[QueueCounts]:
    """Ready / delayed / dead / consumers of every queue; None where the broker cannot tell."""
    names = queue_names(broker)
    if isinstance(broker, StubBroker):
        return [_stub_counts(broker, name) for name in names]
    if broker_url.startswith("amqp"):
        try:
            with BrokerInspector(broker_url, timeout=3.0) as inspector:
                return [inspector.queue_counts(name) for name in names]
        except Exception as error:  # the page still shows the ledger when the broker is down
            logger.warning("Cannot count queues on the broker: %s", error)
    return [QueueCounts(name, None, None, None, None) for name in names]


def _stub_counts(broker: StubBroker, name: str) -> QueueCounts:
    def size(queue_name: str) -> int:
        queue = broker.queues.get(queue_name)
        return queue.qsize() if queue is not None else 0

    dead = len(broker.dead_letters_by_queue.get(name, ()))
    return QueueCounts(name, size(name), size(dq_name(name)), dead, None)
