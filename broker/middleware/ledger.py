"""Record every message's life in the job ledger, and ack only once that record is durable."""

from __future__ import annotations

import enum
import hashlib
import inspect
import time
import traceback
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy

from broker.ledger import Event, LedgerWriter
from broker.middleware.cancellation import JobCancelled
from broker.redaction import redact, redact_args
from broker.redelivery import DuplicateCheck
from broker.workers import worker_id
from domain.models.base import utcnow
from domain.models.jobs import JobStatus

#: Rank of each status within one attempt; progress = retries × 10 + rank (see Job.progress).
STATUS_RANK = {
    JobStatus.ENQUEUED: 0,
    JobStatus.DELAYED: 0,
    JobStatus.RETRYING: 0,
    JobStatus.RUNNING: 1,
    JobStatus.DONE: 3,
    JobStatus.DEAD: 3,
    JobStatus.SKIPPED: 3,
    JobStatus.CANCELLED: 3,
}
#: Options dramatiq keeps on a message that the ledger stores in columns of their own, or not at all.
UNRECORDED_OPTIONS = frozenset({"traceback", "retries", "eta", "redis_message_id"})


class AckMode(enum.StrEnum):
    """How a finished message's ack waits for its ledger record."""

    DEFER = "defer"  # the consumer acks from the flusher thread after the commit (RabbitMQ)
    WAIT = "wait"  # the worker thread blocks in before_ack until the commit (other brokers)
    OFF = "off"  # ack at once; a crash right after may leave the row `running`


class Ledger(dramatiq.Middleware):
    """Turns dramatiq's hooks into ledger events, and holds each ack until its record is written."""

    def __init__(
        self,
        *,
        writer: LedgerWriter,
        ack_mode: AckMode = AckMode.WAIT,
        duplicates: DuplicateCheck | None = None,
    ) -> None:
        self.writer = writer
        self.ack_mode = ack_mode
        self.duplicates = duplicates

    def after_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message, delay: int | None) -> None:
        if message.options.get("retries"):
            status = JobStatus.RETRYING
        else:
            status = JobStatus.DELAYED if delay else JobStatus.ENQUEUED
        eta = utcnow() + timedelta(milliseconds=delay) if delay else None
        self.writer.record(self._event(broker, message, status, eta=eta))

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        if self.duplicates is not None:
            self.duplicates.before_run(broker, message)  # may skip a copy: then nothing started
        message._ledger_started = time.perf_counter()
        message._ledger_started_at = started_at = utcnow()
        retries = message.options.get("retries", 0)  # the event may be built after Retries counted a failure

        def running() -> Event:
            fields = _start_fields(started_at)
            event = self._event(broker, message, JobStatus.RUNNING, retries=retries, **fields)
            # The hard limit in force, for the supervisor that kills a child stuck past it.
            limit = message.options.get("time_limit") or broker.get_actor(message.actor_name).options.get(
                "time_limit"
            )
            return {**event, "options": {**event["options"], "time_limit": limit}} if limit else event

        self.writer.started(message.message_id, running)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None:
            event = self._finished(broker, message, JobStatus.DONE, result=redact(result))
        else:
            if isinstance(exception, JobCancelled):
                status = JobStatus.CANCELLED
                fields = {"error_type": "JobCancelled", "error_message": "Cancelled while it ran."}
            else:
                status = JobStatus.DEAD if message.failed else JobStatus.RETRYING
                reason = getattr(message, "_retry_error", None) or exception  # see broker.middleware.retries
                fields = _error_fields(reason)
            event = self._finished(broker, message, status, **fields)
            if message.failed:
                # Retries counted this failure as a retry before giving up; none ran, so say how many did.
                retries = max(event["retries"] - 1, 0)
                event.update(retries=retries, progress=retries * 10 + STATUS_RANK[status])
        self._record_final(message, event)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        if getattr(message, "_ledger_ignore", False):
            return  # a copy that did not run (a duplicate, a stale delivery): the run owns the row
        status = JobStatus.DEAD if message.failed else JobStatus.SKIPPED
        fields = _error_fields(message._exception) if message._exception else {}
        self._record_final(message, self._finished(broker, message, status, **fields))

    def before_ack(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._wait_durable(message)

    def before_nack(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        exception = getattr(message, "_exception", None)
        if getattr(message, "_ledger_written", None) is None and exception is not None:
            # Rejected before any hook saw it (an unknown actor): record why it went to the dead letters.
            self._record_final(
                message, self._finished(broker, message, JobStatus.DEAD, **_error_fields(exception))
            )
        self._wait_durable(message)

    def record_rejected(self, queue_name: str, body: bytes, reason: str) -> None:
        """A body that is no dramatiq message (or too big to read): one dead row a day, keyed by its
        hash and the day. Its `enqueued_at` is that day's midnight (UTC): the same body rejected again
        that day updates the row rather than adding one (the ledger's key includes enqueued_at)."""
        now = utcnow()
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.writer.record(
            {
                "message_id": f"rejected-{hashlib.sha256(body).hexdigest()[:40]}-{day:%Y%m%d}",
                "queue_name": queue_name,
                "actor_name": "(unreadable message)",
                "args": [],
                "kwargs": {},
                "options": {"size_bytes": len(body), "first_bytes": body[:120].decode("utf-8", "replace")},
                "priority": 0,
                "enqueued_at": day,
                "status": JobStatus.DEAD.value,
                "progress": STATUS_RANK[JobStatus.DEAD],
                "retries": 0,
                "updated_at": now,
                "finished_at": now,
                "error_type": "RejectedMessage",
                "error_message": reason,
            },
            urgent=True,
        )

    def _record_final(self, message: MessageProxy, event: Event) -> None:
        written = self.writer.record(event, urgent=self.ack_mode != AckMode.OFF)
        if self.ack_mode != AckMode.OFF:
            message._ledger_written = written

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.writer.flush()

    def before_consumer_thread_shutdown(self, broker: dramatiq.Broker, thread) -> None:
        # Consumers stop after the worker threads have finished their last jobs: write those jobs'
        # records now and send their deferred acks before the connection closes, or the jobs would
        # be redelivered and run again.
        self.writer.flush()
        settle = getattr(getattr(thread, "consumer", None), "settle_now", None)
        if settle is not None:
            settle()

    def _wait_durable(self, message: MessageProxy) -> None:
        written = getattr(message, "_ledger_written", None)
        if self.ack_mode == AckMode.WAIT and written is not None:
            written.wait()

    def _finished(self, broker: dramatiq.Broker, message: MessageProxy, status: JobStatus, **fields) -> Event:
        started = getattr(message, "_ledger_started", None)
        if started is None:
            return self._event(broker, message, status, finished_at=utcnow(), **fields)
        self.writer.finished(message.message_id)
        duration_ms = (time.perf_counter() - started) * 1000
        fields.update(_start_fields(message._ledger_started_at))
        return self._event(broker, message, status, finished_at=utcnow(), duration_ms=duration_ms, **fields)

    def _event(
        self,
        broker: dramatiq.Broker,
        message: dramatiq.Message,
        status: JobStatus,
        *,
        retries: int | None = None,
        **fields,
    ) -> Event:
        """An event of `message`; `retries` as of now unless given (Retries counts up after a failure)."""
        if retries is None:
            retries = message.options.get("retries", 0)
        return {
            **self._describe(broker, message),
            "status": status.value,
            "progress": retries * 10 + STATUS_RANK[status],
            "retries": retries,
            "updated_at": utcnow(),
            **fields,
        }

    def _describe(self, broker: dramatiq.Broker, message: dramatiq.Message) -> Event:
        """What the ledger shows of the message itself, worked out once per delivery."""
        described = getattr(message, "_ledger_described", None)
        if described is not None:
            return described
        options = {k: v for k, v in message.options.items() if k not in UNRECORDED_OPTIONS}
        described = {
            "message_id": message.message_id,
            "queue_name": message.queue_name,
            "actor_name": message.actor_name,
            "args": redact_args(message.args, _parameter_names(broker, message.actor_name)),
            "kwargs": redact(message.kwargs),
            "options": redact(options),
            "priority": message.options.get("broker_priority", 0),
            "enqueued_at": datetime.fromtimestamp(message.message_timestamp / 1000, UTC),
        }
        if isinstance(message, MessageProxy):
            message._ledger_described = described
        return described


def _start_fields(started_at: datetime) -> dict[str, Any]:
    return {"started_at": started_at, "worker_id": worker_id()}


def _error_fields(exception: BaseException) -> dict[str, Any]:
    return {
        "error_type": type(exception).__name__,
        "error_message": str(exception) or type(exception).__name__,
        "traceback": "".join(traceback.format_exception(exception, limit=30)),
    }


@lru_cache(maxsize=1024)
def _cached_parameter_names(fn) -> tuple[str, ...]:
    try:
        return tuple(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return ()


def _parameter_names(broker: dramatiq.Broker, actor_name: str) -> tuple[str, ...]:
    actor = broker.actors.get(actor_name)
    return _cached_parameter_names(actor.fn) if actor is not None else ()
