"""dramatiq's RabbitMQ broker with acks that wait for the job ledger without blocking worker threads."""

from __future__ import annotations

import logging
from collections.abc import Callable

from dramatiq.brokers.rabbitmq import RabbitmqBroker, _RabbitmqConsumer

logger = logging.getLogger(__name__)


class DeferredAckConsumer(_RabbitmqConsumer):
    """Acks (and nacks) a message only once its final ledger event is committed.

    The Ledger middleware leaves `_ledger_written` on a finished message; the ack waits on it and
    is sent by the ledger's flusher thread right after that commit. A worker killed
    in between has not acked, so RabbitMQ redelivers the job: its record can never be lost.
    """

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

    @property
    def consumer_class(self):
        return DeferredAckConsumer
