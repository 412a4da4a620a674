"""The outbox relay: publish committed `send_on_commit` rows with confirms, then mark them sent."""

from __future__ import annotations

import logging
import threading
import uuid

import dramatiq
from dramatiq import Message
from dramatiq.common import current_millis, dq_name
from sqlalchemy import select, update

from broker.bulk import Publication, publish_confirmed
from broker.redelivery import POSSIBLE_DUPLICATE
from domain import db
from domain.models.base import utcnow
from domain.models.outbox import OutboxMessage

logger = logging.getLogger(__name__)


class Relay:
    """Moves outbox rows to the broker, oldest first, `batch_size` at a time."""

    def __init__(self, broker: dramatiq.Broker, *, batch_size: int = 500, idle_seconds: float = 0.2) -> None:
        self.broker, self.batch_size, self.idle_seconds = broker, batch_size, idle_seconds

    def relay_once(self) -> int:
        """Publish one batch of unsent rows; returns how many the broker confirmed."""
        with db.session_scope() as session:
            rows = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None))
                .order_by(OutboxMessage.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)  # two relays never publish the same rows at once
            ).all()
            if not rows:
                return 0
            prepared = [self._prepare(row) for row in rows]
            confirmed = self._publish(prepared)
            # Two statements for the whole batch, not one UPDATE per row: the rows stay locked until
            # the COMMIT, and a worker claiming one of them waits for it.
            ids = [row.id for row in rows]
            sent_ids = [rows[index].id for index in sorted(confirmed)]
            counted = OutboxMessage.publish_count + 1
            session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(publish_count=counted))
            if sent_ids:
                session.execute(
                    update(OutboxMessage).where(OutboxMessage.id.in_(sent_ids)).values(sent_at=utcnow())
                )
            self.mark_sent(session)
        for index in sorted(confirmed):
            self.broker.emit_after("enqueue", *prepared[index])
        return len(confirmed)

    def mark_sent(self, session) -> None:
        """The COMMIT of a batch's sent marks (a seam for the test of a relay dying right before it)."""
        session.flush()

    def run(self, stop: threading.Event) -> None:
        """Relay until `stop` is set; a failing batch is logged and tried again."""
        while not stop.is_set():
            try:
                moved = self.relay_once()
            except Exception:
                logger.exception("Relaying the outbox failed; trying again.")
                moved = 0
            if moved < self.batch_size:
                stop.wait(self.idle_seconds)

    def _prepare(self, row: OutboxMessage) -> tuple[Message, int | None]:
        token = f"{row.id}.{row.publish_count + 1}.{uuid.uuid4().hex[:8]}"
        options = {"outbox_id": row.id, "outbox_publication": token, "outbox_secret": row.claim_secret}
        if row.publish_count:
            options[POSSIBLE_DUPLICATE] = True  # an earlier publication may have reached the queue
        message = Message.decode(row.body).copy(options=options)
        if not row.delay_ms:
            return message, None
        eta = int(row.created_at.timestamp() * 1000) + row.delay_ms
        delay = max(eta - current_millis(), 0)
        return message.copy(queue_name=dq_name(message.queue_name), options={"eta": eta}), delay

    def _publish(self, prepared: list[tuple[Message, int | None]]) -> set[int]:
        if not hasattr(self.broker, "parameters"):  # not RabbitMQ: the broker's own enqueue
            for message, delay in prepared:
                self.broker.enqueue(message, delay=delay)
            return set(range(len(prepared)))
        for message, _ in prepared:
            self.broker.declare_queue(message.queue_name, ensure=True)
        publications = [
            Publication(m.queue_name, m.encode(), m.options.get("broker_priority")) for m, _ in prepared
        ]
        confirmations = publish_confirmed(self.broker.parameters, publications)
        if confirmations.error:
            logger.warning("Outbox batch: %s; unconfirmed rows stay for the next round.", confirmations.error)
        return set(confirmations.acked) - confirmations.returned


class RelayThread(threading.Thread):
    """The relay on a daemon thread (inside `bookjobs up`)."""

    def __init__(self, relay: Relay) -> None:
        super().__init__(name="outbox-relay", daemon=True)
        self.relay, self._stop_event = relay, threading.Event()

    def run(self) -> None:
        self.relay.run(self._stop_event)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(10)
