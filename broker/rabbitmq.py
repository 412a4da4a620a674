"""dramatiq's RabbitMQ broker with acks that wait for the job ledger without blocking worker threads."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pika.exceptions
from dramatiq import Message
from dramatiq.brokers.rabbitmq import RabbitmqBroker, _RabbitmqConsumer, _RabbitmqMessage
from dramatiq.common import q_name
from dramatiq.errors import ConnectionClosed, DecodeError

logger = logging.getLogger(__name__)


class DeferredAckConsumer(_RabbitmqConsumer):
    """Acks (and nacks) a message only once its final ledger event is committed.

    The Ledger middleware leaves `_ledger_written` on a finished message; the ack waits on it and
    is sent by the ledger's flusher thread right after that commit. A worker killed
    in between has not acked, so RabbitMQ redelivers the job: its record can never be lost.
    """

    def __next__(self):
        """dramatiq's, plus a size limit, and a ledger row for every body that is not a message."""
        try:
            method, _properties, body = next(self.iterator)
            if method is None:
                return None
        except (AssertionError, pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError) as e:
            if getattr(e, "reply_code", None) == 404:
                self.broker.queues_pending.add(q_name(self.queue_name))
            raise ConnectionClosed(e) from None
        limit = getattr(self.broker, "max_message_bytes", None)
        if limit and len(body) > limit:
            return self._reject(
                method, body, f"Message of {len(body)} bytes exceeds MAX_MESSAGE_BYTES={limit}."
            )
        try:
            message = Message.decode(body)
        except DecodeError as error:
            cause = error.__cause__ or error
            return self._reject(method, body, f"Not a dramatiq message ({type(cause).__name__}: {cause}).")
        self.known_tags.add(method.delivery_tag)
        return _RabbitmqMessage(method.redelivered, method.delivery_tag, message)

    def _reject(self, method, body: bytes, reason: str) -> None:
        """Dead-letter an unreadable delivery at once and say why in the ledger; the worker goes on."""
        logger.error("Rejected a delivery on %r: %s", self.queue_name, reason)
        for middleware in self.broker.middleware:
            if hasattr(middleware, "record_rejected"):
                middleware.record_rejected(q_name(self.queue_name), body, reason)
        self._nack(method.delivery_tag)
        return None

    def ack(self, message) -> None:
        self._when_recorded(message, super().ack)

    def nack(self, message) -> None:
        self._when_recorded(message, super().nack)

    def settle_now(self) -> None:
        """Send the acks handed over so far (called on the consumer's own thread before it closes)."""
        try:
            self.connection.process_data_events(time_limit=0)
        except Exception:
            logger.warning("Could not send the last acks; those messages will be redelivered.", exc_info=True)

    def _when_recorded(self, message, action: Callable) -> None:
        written = getattr(message, "_ledger_written", None)
        if written is None:
            action(message)
        else:
            written.then(lambda: _settle(action, message))


def _settle(action: Callable, message) -> None:
    try:
        action(message)
    except Exception:
        # The connection went away: RabbitMQ will redeliver the message, and actors are idempotent.
        logger.warning("Could not settle %s; it will be redelivered.", message.message_id, exc_info=True)


class LedgerRabbitmqBroker(RabbitmqBroker):
    """RabbitmqBroker whose consumers settle messages after the ledger has recorded them."""

    def __init__(self, *, max_message_bytes: int | None = None, **options) -> None:
        super().__init__(**options)
        self.max_message_bytes = max_message_bytes

    @property
    def consumer_class(self):
        return DeferredAckConsumer
