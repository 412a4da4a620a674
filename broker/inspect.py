"""Read-only looks at the broker: queue depths by passive declares, and purging."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pika
import pika.exceptions
from dramatiq.common import dq_name, xq_name

from broker.factory import cluster_urls


@dataclass(frozen=True)
class QueueCounts:
    """How many messages wait in a queue, in its delay queue and in its dead-letter queue."""

    name: str
    ready: int | None
    delayed: int | None
    dead: int | None
    consumers: int | None

    def as_dict(self) -> dict:
        return asdict(self)


class BrokerInspector:
    """One short-lived AMQP connection for counting and purging queues."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        nodes = []
        for node_url in cluster_urls(url):  # a cluster's nodes in turn, as the broker does
            parameters = pika.URLParameters(node_url)
            parameters.socket_timeout = timeout
            parameters.blocked_connection_timeout = timeout
            parameters.connection_attempts = 1
            nodes.append(parameters)
        self._connection = pika.BlockingConnection(nodes)

    def __enter__(self) -> BrokerInspector:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self._connection.is_open:
            self._connection.close()

    def message_count(self, queue_name: str) -> tuple[int, int] | None:
        """(messages ready, consumers) of `queue_name`, or None when the queue does not exist.

        A passive declare never creates a queue; when the queue is missing RabbitMQ closes the
        channel, so every look gets a channel of its own.
        """
        channel = self._connection.channel()
        try:
            frame = channel.queue_declare(queue=queue_name, passive=True)
        except pika.exceptions.ChannelClosedByBroker as error:
            if error.reply_code == 404:
                return None
            raise
        channel.close()
        return frame.method.message_count, frame.method.consumer_count

    def queue_counts(self, queue_name: str) -> QueueCounts:
        """Ready, delayed and dead counts of a dramatiq queue (None where a queue does not exist yet)."""
        main, delayed, dead = (
            self.message_count(q) for q in (queue_name, dq_name(queue_name), xq_name(queue_name))
        )
        return QueueCounts(
            name=queue_name,
            ready=main[0] if main else None,
            delayed=delayed[0] if delayed else None,
            dead=dead[0] if dead else None,
            consumers=main[1] if main else None,
        )

    def purge(self, queue_name: str) -> int:
        """Remove every ready message of `queue_name`; returns how many there were (0 if none exists)."""
        channel = self._connection.channel()
        try:
            frame = channel.queue_purge(queue=queue_name)
        except pika.exceptions.ChannelClosedByBroker as error:
            if error.reply_code == 404:
                return 0
            raise
        channel.close()
        return frame.method.message_count
