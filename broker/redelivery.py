"""A job that finished never runs again: deliveries that may repeat one ask the ledger first.

The Ledger middleware calls `DuplicateCheck.before_run` first thing for every delivery, before it
records a start. It is no middleware of its own: every middleware adds a call per hook and message,
and a worker's consumer thread waits for the GIL while worker threads make them; as a separate
middleware this check, two dictionary lookups, cost a one-process drain several per cent.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import timedelta

import dramatiq
from dramatiq.middleware import SkipMessage

from broker.ledger import LedgerWriter
from broker.workers import HOSTNAME, worker_id
from domain import db
from domain import ledger as ledger_service
from domain.models.base import utcnow
from domain.models.jobs import FINAL_STATUSES, JobStatus, WorkerHeartbeat

logger = logging.getLogger(__name__)

#: Option a sender sets on a copy that may repeat a message already sent (bulk retries, the relay).
POSSIBLE_DUPLICATE = "possible_duplicate"
#: How many times a copy has waited for another worker's run of the same job.
DUPLICATE_CHECKS = "duplicate_checks"
#: How many times a possible duplicate whose job has not started goes back (1 s, then 2 s, each time
#: behind the queue's backlog) for a twin to start before it runs. Each time is a trip through the
#: delay queue and a ledger read: a resend of thousands of jobs pays them all, so a few.
TWIN_CHECKS = 2
#: Ledger states of a job no delivery has started yet.
WAITING_STATUSES = frozenset({JobStatus.ENQUEUED, JobStatus.DELAYED, JobStatus.RETRYING})
#: A worker silent for this many heartbeats is taken for dead (see domain.ledger.STALE_AFTER_BEATS).
STALE_AFTER_BEATS = ledger_service.STALE_AFTER_BEATS


def _may_have_a_twin(message) -> bool:
    """A copy published again (possible_duplicate) whose first publish, if it arrived, runs unchecked.

    Outbox publications are not: every one of them claims its outbox row atomically (OutboxClaim)."""
    return bool(message.options.get(POSSIBLE_DUPLICATE)) and "outbox_id" not in message.options


class StaleDelivery(SkipMessage):
    """Fetched on a connection that has since closed: RabbitMQ gives the message to another consumer."""


class DuplicateSuppressed(SkipMessage):
    """The ledger says this message's job already finished: this delivery is acked without running."""


class DuplicateDeferred(SkipMessage):
    """The same job is running elsewhere (or the ledger cannot say): this copy comes back later."""


class DuplicateCheck:
    """Runs a redelivered (AMQP `redelivered`) or possibly duplicated message only if its job has
    not finished. Fresh deliveries pay two dictionary lookups; only the rare copies query the ledger.

    - final row (done, dead, skipped): acked unrun, counted in `duplicates_suppressed`;
    - `running` on a live worker (this process included): requeued with a delay, checked again then;
    - a possible duplicate (published again after a lost confirm) whose job has not started:
      requeued with a delay up to TWIN_CHECKS times, since the first publish may be queued ahead of
      it and would run unchecked;
    - anything else (a dead worker's `running`, a redelivery not started): runs.

    A copy waits `grace` seconds after its delivery before it reads the ledger, so a run that
    finished on another worker just before the redelivery has time to reach the ledger.
    """

    def __init__(
        self, *, writer: LedgerWriter | None, heartbeat_interval: float, grace: float = 0.5
    ) -> None:
        self.writer = writer
        self.heartbeat_interval = heartbeat_interval
        self.grace = grace

    def before_run(self, broker: dramatiq.Broker, message) -> None:
        """SkipMessage (after which the message is acked unrun) unless `message` may run now."""
        # Every delivery passes here: only dictionary lookups, and vars() rather than getattr(),
        # which on a MessageProxy would raise and catch an AttributeError for a missing name.
        state = vars(message)
        consumer = state.get("_consumer")
        if consumer is not None and consumer.closed:
            message._ledger_ignore = True
            raise StaleDelivery(f"Message {message.message_id} came on a closed connection; not run here.")
        if state.get("redelivered") or message.options.get(POSSIBLE_DUPLICATE):
            self._check(broker, message)

    def _check(self, broker: dramatiq.Broker, message) -> None:
        message_id = message.message_id
        received_at = vars(message).get("_received_at")
        wait = self.grace - (time.monotonic() - received_at) if received_at is not None else self.grace
        if wait > 0:
            time.sleep(wait)
        if self.writer is not None:
            self.writer.flush()  # this process's own finished runs must be visible to the query
        try:
            with db.session_scope() as session:
                row = ledger_service.job_state(session, message_id)
                if row is not None and row[0] in FINAL_STATUSES:
                    ledger_service.count_suppressed_duplicate(session, message_id)
        except Exception as error:
            logger.warning("Cannot read the ledger row of %s (%s); checking later.", message_id, error)
            return self._defer(broker, message, "the ledger cannot be read")
        if _may_have_a_twin(message) and (row is None or row[0] in WAITING_STATUSES):
            # A copy published again after an unknown outcome: its twin may be queued ahead of it,
            # fresh and unchecked. Give the twin time to start (its row then says running or
            # final) before running this copy; if none shows, the first publish never arrived.
            checks = int(message.options.get(DUPLICATE_CHECKS, 0))
            if checks < TWIN_CHECKS:
                return self._defer(broker, message, "a twin sent before it may be waiting to run")
        if row is None:
            return
        status, owner, heartbeat = row
        if status in FINAL_STATUSES:
            message._ledger_ignore = True
            logger.info(
                "Message %s already ended %s; this copy is acked without running.", message_id, status
            )
            raise DuplicateSuppressed(f"Message {message_id} already ended {status}.")
        if status != JobStatus.RUNNING:
            return
        if owner == worker_id():
            # This process is alive and its own finished runs were just flushed: the run is going on here.
            self._defer(broker, message, "it is running in this process")
        elif self._alive(heartbeat):
            self._defer(broker, message, f"it is running on {owner}")

    def _alive(self, heartbeat: WorkerHeartbeat | None) -> bool:
        """True while the worker of `heartbeat` beats (and, on this host, its process exists)."""
        if heartbeat is None:
            return False
        if utcnow() - heartbeat.last_seen > timedelta(seconds=self.heartbeat_interval * STALE_AFTER_BEATS):
            return False
        if heartbeat.hostname == HOSTNAME:
            try:
                os.kill(heartbeat.pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
        return True

    def _defer(self, broker: dramatiq.Broker, message, why: str) -> None:
        """Requeue a copy of `message` (same id) to be checked again later, and ack this one unrun."""
        checks = int(message.options.get(DUPLICATE_CHECKS, 0)) + 1
        delay_ms = min(1000 * 2 ** min(checks - 1, 6), 60_000)
        copy = message.copy(
            queue_name=message.queue_name.removesuffix(".DQ"),
            options={POSSIBLE_DUPLICATE: True, DUPLICATE_CHECKS: checks},
        )
        copy.options.pop("eta", None)
        broker.enqueue(copy, delay=delay_ms)
        message._ledger_ignore = True
        logger.info(
            "Message %s may be a duplicate (%s); checking again in %d ms.", message.message_id, why, delay_ms
        )
        raise DuplicateDeferred(f"Message {message.message_id} deferred: {why}.")
