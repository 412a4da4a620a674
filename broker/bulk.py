"""Publish many messages and wait for RabbitMQ's confirms once for the batch, not once per message.

`send()` with publisher confirms waits a round trip per message (about 1,000 a second here). A batch
sent here is pipelined: every message is published, then the confirms are collected as they come,
so the guarantee is the same (each message confirmed by the broker, or an error naming which were
not) at many times the rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pika
import pika.exceptions
from pika.spec import Basic


@dataclass(frozen=True)
class Publication:
    """One message to publish on the default exchange."""

    routing_key: str
    body: bytes
    priority: int | None = None


@dataclass
class Confirmations:
    """Which publications (by index) the broker confirmed, refused, or left unanswered."""

    acked: set[int] = field(default_factory=set)
    nacked: set[int] = field(default_factory=set)
    returned: set[int] = field(default_factory=set)  # no queue to take them (published `mandatory`)
    error: str | None = None

    def unconfirmed(self, total: int) -> list[int]:
        return [i for i in range(total) if i not in self.acked or i in self.returned]


CANNOT_CONNECT = "cannot connect"


class _BatchPublisher:
    """pika's asynchronous connection, driven until every publication is confirmed or time runs out."""

    def __init__(self, parameters: pika.ConnectionParameters, items: Sequence[Publication], timeout: float):
        self.parameters, self.items, self.timeout = parameters, items, timeout
        self.result = Confirmations()
        self._pending: dict[int, int] = {}  # delivery tag → index in items
        self._connection: pika.SelectConnection | None = None

    def run(self) -> Confirmations:
        self._connection = pika.SelectConnection(
            self.parameters,
            on_open_callback=lambda connection: connection.channel(on_open_callback=self._on_channel),
            on_open_error_callback=lambda _c, error: self._stop(f"{CANNOT_CONNECT}: {error}"),
            on_close_callback=lambda _c, reason: self._connection.ioloop.stop(),
        )
        self._connection.ioloop.call_later(self.timeout, lambda: self._stop("timed out waiting for confirms"))
        self._connection.ioloop.start()
        return self.result

    def _on_channel(self, channel) -> None:
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(self._on_confirm, callback=lambda _frame: self._publish_all(channel))

    def _publish_all(self, channel) -> None:
        for tag, item in enumerate(self.items, start=1):
            # The tag as message id tells which one comes back if no queue takes it.
            properties = pika.BasicProperties(delivery_mode=2, priority=item.priority, message_id=str(tag))
            channel.basic_publish("", item.routing_key, item.body, properties, mandatory=True)
            self._pending[tag] = tag - 1
        if not self.items:
            self._stop(None)

    def _on_channel_closed(self, _channel, reason) -> None:
        if self._pending:
            self._stop(f"channel closed: {reason}")

    def _on_return(self, _channel, _method, properties, _body) -> None:
        # RabbitMQ returns an unroutable message before it confirms it; the confirm alone would lie.
        self.result.returned.add(int(properties.message_id) - 1)

    def _on_confirm(self, frame) -> None:
        method = frame.method
        tags = (
            [t for t in self._pending if t <= method.delivery_tag]
            if method.multiple
            else [method.delivery_tag]
        )
        target = self.result.acked if isinstance(method, Basic.Ack) else self.result.nacked
        for tag in tags:
            index = self._pending.pop(tag, None)
            if index is not None:
                target.add(index)
        if not self._pending:
            self._stop(None)

    def _stop(self, error: str | None) -> None:
        if error and self.result.error is None:
            self.result.error = error
        connection = self._connection
        if connection is not None and connection.is_open:
            connection.close()
        elif connection is not None:
            connection.ioloop.stop()


def publish_confirmed(
    parameters: pika.ConnectionParameters | Sequence[pika.ConnectionParameters],
    items: Sequence[Publication],
    *,
    timeout: float = 60.0,
) -> Confirmations:
    """Publish `items` persistently over one new connection; returns what the broker confirmed.

    Given a cluster's nodes, it connects to the first that answers (nothing is published before the
    connection is open, so moving on to the next node never sends anything twice)."""
    nodes = list(parameters) if isinstance(parameters, Sequence) else [parameters]
    for node in nodes[:-1]:
        result = _BatchPublisher(node, items, timeout).run()
        if not (result.error or "").startswith(CANNOT_CONNECT):
            return result
    return _BatchPublisher(nodes[-1], items, timeout).run()
