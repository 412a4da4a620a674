"""dramatiq's RabbitMQ broker with acks that wait for the job ledger without blocking worker threads."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dramatiq.worker
import pika
import pika.exceptions
from dramatiq import Message
from dramatiq.brokers.rabbitmq import (
    DEAD_MESSAGE_TTL,
    MAX_ENQUEUE_ATTEMPTS,
    RabbitmqBroker,
    _RabbitmqConsumer,
    _RabbitmqMessage,
)
from dramatiq.common import current_millis, dq_name, q_name, xq_name
from dramatiq.errors import ConnectionClosed

from broker import reserved
from broker.envelope import InvalidEnvelope, decode_envelope
from broker.errors import ConfigError
from broker.policy import policy_for
from broker.redelivery import POSSIBLE_DUPLICATE

logger = logging.getLogger(__name__)

#: dramatiq's Worker asks for 2 messages per worker thread.
DRAMATIQ_PREFETCH_PER_THREAD = 2
#: AMQP's reply code when a redeclare's arguments differ from the queue's (406).
PRECONDITION_FAILED = 406
#: AMQP's prefetch count is a 16-bit field.
MAX_PREFETCH = 65535


class DeferredAckConsumer(_RabbitmqConsumer):
    """Acks (and nacks) a message only once its final ledger event is committed, and in batches.

    The Ledger middleware leaves `_ledger_written` on a finished message; the ack waits on it and
    is handed over right after that commit. A worker killed in between has not acked, so RabbitMQ
    redelivers the job: its record can never be lost. Everything handed over while the consumer
    thread was busy is settled in one pass there, with one `multiple` ack where the tags allow it:
    one frame and one socket write for a committed batch instead of one each per message.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._handed_over: list[tuple[int, bool]] = []
        self._handed_over_lock = threading.Lock()
        self._wakeup_pending = False
        #: Set once this connection is gone: deliveries it handed out can no longer be acked, and
        #: RabbitMQ gives them to another consumer, so those not started yet must not run here.
        self.closed = False

    def __next__(self):
        """dramatiq's, plus a size limit, and a ledger row for every body that is not a message."""
        try:
            method, _properties, body = next(self.iterator)
            if method is None:
                return None
        except (AssertionError, pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError) as e:
            self.closed = True
            if getattr(e, "reply_code", None) == 404:
                self.broker.queues_pending.add(q_name(self.queue_name))
            raise ConnectionClosed(e) from None
        limit = getattr(self.broker, "max_message_bytes", None)
        if limit and len(body) > limit:
            return self._reject(
                method, body, f"Message of {len(body)} bytes exceeds MAX_MESSAGE_BYTES={limit}."
            )
        try:
            message = decode_envelope(body, queue_name=self.queue_name)
        except InvalidEnvelope as error:
            return self._reject(method, body, str(error))
        if method.redelivered and self.queue_name.endswith(".DQ"):
            # Its move to the work queue may have been published before the ack that was lost:
            # the worker's copy for the work queue carries the option, so that copy asks the ledger.
            message.options[POSSIBLE_DUPLICATE] = True
        self.known_tags.add(method.delivery_tag)
        delivery = _RabbitmqMessage(method.redelivered, method.delivery_tag, message)
        delivery._consumer = self
        delivery._received_at = time.monotonic()
        if not self.queue_name.endswith(".DQ"):  # delayed ones wait for their ETA: `inspect scheduled`
            reserved.received(message.message_id, message.actor_name, self.queue_name, self)
        return delivery

    def _reject(self, method, body: bytes, reason: str) -> None:
        """Dead-letter an unreadable delivery at once and say why in the ledger; the worker goes on."""
        logger.error("Rejected a delivery on %r: %s", self.queue_name, reason)
        for middleware in self.broker.middleware:
            if hasattr(middleware, "record_rejected"):
                middleware.record_rejected(q_name(self.queue_name), body, reason)
        # On the consumer thread, before any later `multiple` ack could cover this tag.
        self.channel.basic_nack(method.delivery_tag, requeue=False)
        return None

    def close(self) -> None:
        self.closed = True
        super().close()

    def ack(self, message) -> None:
        self._when_recorded(message, ack=True)

    def nack(self, message) -> None:
        self._when_recorded(message, ack=False)

    def settle_now(self) -> None:
        """Send the acks handed over so far (called on the consumer's own thread before it closes)."""
        try:
            self._settle_handed_over()
            self.connection.process_data_events(time_limit=0)
        except Exception:
            logger.warning("Could not send the last acks; those messages will be redelivered.", exc_info=True)

    def _when_recorded(self, message, *, ack: bool) -> None:
        if getattr(message, "_consumer", self) is not self:
            # Delivered on an earlier connection of this thread: its tag means another delivery now.
            return
        written = getattr(message, "_ledger_written", None)
        if written is None:
            self._hand_over(message._tag, ack)
        else:
            written.then(lambda: self._hand_over(message._tag, ack))

    def _hand_over(self, tag: int, ack: bool) -> None:
        """Queue a settlement for the consumer thread; wake it once per batch, from any thread."""
        with self._handed_over_lock:
            self._handed_over.append((tag, ack))
            if self._wakeup_pending:
                return
            self._wakeup_pending = True
        try:
            self.connection.add_callback_threadsafe(self._settle_handed_over)
        except Exception:
            # The connection went away: RabbitMQ will redeliver the messages, and actors are idempotent.
            logger.warning("Could not settle delivery %d; it will be redelivered.", tag, exc_info=True)

    def _settle_handed_over(self) -> None:
        """On the consumer thread: send every settlement handed over so far."""
        with self._handed_over_lock:
            batch, self._handed_over = self._handed_over, []
            self._wakeup_pending = False
        if not batch:
            return
        plan = plan_settlement(self.known_tags, batch)
        if plan.unknown:
            logger.warning("Not settling %d deliveries of an earlier connection.", len(plan.unknown))
        for tag in plan.nacks:
            self.channel.basic_nack(tag, requeue=False)
        for tag in plan.acks:
            self.channel.basic_ack(tag)
        if plan.ack_up_to is not None:
            self.channel.basic_ack(plan.ack_up_to, multiple=True)


@dataclass(frozen=True)
class Settlement:
    """The frames that settle a batch: `ack_up_to` acks every open delivery up to that tag at once."""

    ack_up_to: int | None
    acks: list[int]
    nacks: list[int]
    unknown: list[int]


def plan_settlement(open_tags: set[int], batch: Iterable[tuple[int, bool]]) -> Settlement:
    """Remove `batch` (tag, ack?) from `open_tags` and say which frames settle it.

    Acks below the lowest tag still open become one `multiple` ack: every delivery under it is
    either in this batch or settled already. Acks above it, and all nacks, go one by one.
    """
    acks, nacks, unknown = [], [], []
    for tag, ack in batch:
        if tag not in open_tags:
            unknown.append(tag)
            continue
        open_tags.discard(tag)
        (acks if ack else nacks).append(tag)
    lowest_open = min(open_tags, default=None)
    below = [tag for tag in acks if lowest_open is None or tag < lowest_open]
    above = [tag for tag in acks if lowest_open is not None and tag > lowest_open]
    if len(below) < 2:
        return Settlement(None, below + above, nacks, unknown)
    return Settlement(max(below), above, nacks, unknown)


class QueueTypeMismatch(ConfigError):
    """A queue exists with another type (or arguments) than the settings ask for."""


class LedgerRabbitmqBroker(RabbitmqBroker):
    """RabbitmqBroker whose consumers settle messages after the ledger has recorded them, on classic
    or quorum queues (`BROKER_QUEUE_TYPE`)."""

    def __init__(
        self,
        *,
        max_message_bytes: int | None = None,
        queue_type: str = "classic",
        delivery_limit: int = 20,
        **options,
    ) -> None:
        super().__init__(**options)
        self.max_message_bytes = max_message_bytes
        self.queue_type = queue_type
        self.delivery_limit = delivery_limit

    def _build_queue_arguments(self, queue_name: str) -> dict:
        arguments = super()._build_queue_arguments(queue_name)
        if self.queue_type == "quorum":
            # Replicated (Raft) and poison-proof: past the limit RabbitMQ dead-letters the message.
            arguments.update({"x-queue-type": "quorum", "x-delivery-limit": self.delivery_limit})
        return arguments

    def _declare_queue(self, queue_name: str):
        with self._type_checked(queue_name):
            return super()._declare_queue(queue_name)

    def _declare_dq_queue(self, queue_name: str):
        with self._type_checked(dq_name(queue_name)):
            return super()._declare_dq_queue(queue_name)

    def _declare_xq_queue(self, queue_name: str):
        with self._type_checked(xq_name(queue_name)):
            if self.queue_type != "quorum":
                return super()._declare_xq_queue(queue_name)
            arguments = {"x-message-ttl": DEAD_MESSAGE_TTL, "x-queue-type": "quorum"}
            return self.channel.queue_declare(queue=xq_name(queue_name), durable=True, arguments=arguments)

    @contextmanager
    def _type_checked(self, name: str) -> Iterator[None]:
        """A queue that exists with another type is a clear error, not dramatiq's retry loop."""
        try:
            yield
        except pika.exceptions.ChannelClosedByBroker as error:
            if error.reply_code != PRECONDITION_FAILED:
                raise
            del self.connection  # its channel is closed; the next caller opens new ones
            raise QueueTypeMismatch(mismatch_message(name, self.queue_type, error.reply_text)) from None

    def enqueue(self, message: Message, *, delay: int | None = None) -> Message:
        """dramatiq's enqueue, except that a publish repeated after a lost connection says so.

        A publish cut off before its confirm may have reached the queue all the same, and dramatiq
        then sends the same body again: a second copy no worker would question, so a finished job
        ran twice when a node was lost. Here a publish after one whose outcome is unknown carries
        POSSIBLE_DUPLICATE (its worker asks the ledger first), and when every attempt fails the
        caller's `message` is marked the same way, so sending it again is safe.
        """
        queue_name = message.queue_name
        outgoing = message
        if delay is not None:
            outgoing = message.copy(queue_name=dq_name(queue_name), options={"eta": current_millis() + delay})
        attempt = 0
        while True:
            attempt += 1
            published = False
            try:
                self.declare_queue(queue_name, ensure=True)
                self.emit_before("enqueue", outgoing, delay)
                published = True
                self.channel.basic_publish(
                    exchange="",
                    routing_key=outgoing.queue_name,
                    body=outgoing.encode(),
                    properties=pika.BasicProperties(
                        delivery_mode=2, priority=outgoing.options.get("broker_priority")
                    ),
                    mandatory=self.confirm_delivery,  # unroutable raises only with confirms on
                )
                self.emit_after("enqueue", outgoing, delay)
                return outgoing
            except (pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError) as error:
                del self.connection  # the next attempt (or caller) opens a new connection and channel
                refused = isinstance(error, pika.exceptions.UnroutableError | pika.exceptions.NackError)
                if isinstance(error, pika.exceptions.UnroutableError):
                    self.queues_pending.add(q_name(queue_name))
                if published and not refused:  # it may be in the queue: what follows is a copy
                    outgoing = outgoing.copy(options={POSSIBLE_DUPLICATE: True})
                    message.options[POSSIBLE_DUPLICATE] = True
                if attempt == MAX_ENQUEUE_ATTEMPTS:
                    raise ConnectionClosed(error) from None
                logger.debug("Publish of %s failed (%s); trying again.", outgoing.message_id, error)

    @property
    def consumer_class(self):
        return DeferredAckConsumer

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000):
        """dramatiq's consumer, with the queue policy's prefetch window (see QueuePolicy)."""
        return super().consume(queue_name, queue_prefetch(queue_name, prefetch), timeout)


def queue_prefetch(queue_name: str, dramatiq_prefetch: int) -> int:
    """The prefetch for `queue_name`, given dramatiq's (2 per worker thread, or its env override).

    Delay queues keep dramatiq's large window, and a window the operator set wins for every queue
    (`bookjobs worker --prefetch`, or dramatiq's `dramatiq_queue_prefetch`; read now, not at import).
    """
    if queue_name != q_name(queue_name) or dramatiq.worker.QUEUE_PREFETCH:
        return dramatiq_prefetch
    threads = max(dramatiq_prefetch // DRAMATIQ_PREFETCH_PER_THREAD, 1)
    return min(threads * policy_for(queue_name).prefetch_per_thread, MAX_PREFETCH)


def mismatch_message(queue: str, wanted: str, reply: str) -> str:
    """What to do when RabbitMQ refuses to redeclare `queue` as a `wanted` queue."""
    return (
        f"RabbitMQ refused to declare queue {queue!r} as a {wanted} queue: it exists with other "
        f"arguments ({reply}). RabbitMQ cannot change a queue's type in place. Either set "
        f"BROKER_QUEUE_TYPE back to what the queue is, or drain it (stop sending, let the workers "
        f"empty it) and delete it (`rabbitmqctl delete_queue {queue}`, with its .DQ and .XQ), then "
        "start bookjobs again to declare it anew; or use a new vhost. See docs/scale-out.md."
    )
