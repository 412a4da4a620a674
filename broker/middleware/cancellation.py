"""Cancelled jobs, as the ledger says (`domain.cancels`): skipped when delivered, aborted when running.

Each worker process polls the ledger twice a second for the cancels asked since its last look (a
partial index keeps that cheap). A delivery of a cancelled job is acked without running. A job of
this process that is running when its cancel arrives gets `JobCancelled` raised in its thread, the
way dramatiq's time limit raises (`PyThreadState_SetAsyncExc`): within about a second, no Redis. A
job can also ask `broker.jobs.cancelled()` at safe points and stop cleanly. Its row becomes
`cancelled` with who asked and when; it is not retried and not dead-lettered (it is acked).

Like dramatiq's time limit, the exception only lands while Python code runs: a job blocked in one
long C call sees it when the call returns.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

import dramatiq
from dramatiq.middleware import Interrupt, SkipMessage
from dramatiq.middleware.threading import raise_thread_exception

from domain import cancels, db
from domain.models.base import utcnow

logger = logging.getLogger(__name__)

#: Seconds between two polls of the ledger for new cancels.
POLL_SECONDS = 0.5
#: Each poll looks this far behind its last one, so a cancel committed during a poll is not missed.
OVERLAP = timedelta(seconds=5)
#: Cancelled ids are remembered this long (a cancelled job waiting longer is then run).
REMEMBER_SECONDS = cancels.BOOT_LOOKBACK.total_seconds()


class JobCancelled(Interrupt):
    """Raised in a job's thread when its cancel arrives."""


class Cancellation(dramatiq.Middleware):
    """Skips and aborts cancelled jobs (Retries neither retries nor fails `JobCancelled`: it is acked)."""

    def __init__(self, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._cancelled: dict[str, float] = {}  # message id → when this process learnt of it
        self._running: dict[str, int] = {}  # message id → the thread running it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._since = utcnow()

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # The first look happens before the consumers start: a job cancelled while it waited is
        # known before it can be delivered.
        self._since = self._poll(utcnow() - cancels.BOOT_LOOKBACK)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="bookjobs-cancels", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()

    # The per-message hooks take no lock (single dict operations are atomic under the GIL): a lock
    # taken by every job of eight threads cost a one-process drain 40 % (lock convoys on GIL switches).
    def before_process_message(self, broker: dramatiq.Broker, message) -> None:
        if message.message_id in self._cancelled:
            message._ledger_ignore = True  # the cancel wrote the row: `cancelled`
            raise SkipMessage(f"Job {message.message_id} was cancelled.")
        self._running[message.message_id] = threading.get_ident()

    def after_process_message(self, broker: dramatiq.Broker, message, *, result=None, exception=None) -> None:
        self._running.pop(message.message_id, None)

    def after_skip_message(self, broker: dramatiq.Broker, message) -> None:
        self._running.pop(message.message_id, None)

    def is_cancelled(self, message_id: str) -> bool:
        return message_id in self._cancelled

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self._since = self._poll(self._since)

    def _poll(self, since: datetime) -> datetime:
        """Learn the cancels asked after `since`; returns where the next poll starts."""
        started = utcnow()
        try:
            with db.session_scope() as session:
                self._learn(cancels.recent_cancels(session, since=since))
        except Exception:
            logger.warning("Polling the ledger for cancelled jobs failed.", exc_info=True)
            return since
        return started - OVERLAP

    def _learn(self, message_ids: list[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for message_id in message_ids:
                if message_id in self._cancelled:
                    continue
                self._cancelled[message_id] = now
                thread_id = self._running.get(message_id)
                if thread_id is not None:
                    logger.info("Cancelling job %s in thread %s.", message_id, thread_id)
                    raise_thread_exception(thread_id, JobCancelled)
            forgotten = [m for m, seen in self._cancelled.items() if now - seen > REMEMBER_SECONDS]
            for message_id in forgotten:
                del self._cancelled[message_id]
