"""Each worker process tells the database it is alive, what it serves and how busy it is."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import timedelta

import dramatiq
from sqlalchemy import Engine, delete
from sqlalchemy.dialects import postgresql, sqlite

from broker import reserved
from broker.middleware.recycling import resident_mb
from broker.workers import HOSTNAME, worker_id
from domain import db
from domain import ledger as ledger_service
from domain.models.base import utcnow
from domain.models.jobs import WorkerHeartbeat

logger = logging.getLogger(__name__)

#: Every this many beats a worker removes the rows of workers gone for good.
PRUNE_EVERY_BEATS = 12
#: A worker silent this long is gone (killed, or its host lost); its row is removed.
PRUNE_AFTER_SECONDS = 600


class Heartbeats(dramatiq.Middleware):
    """Upserts a `bookjobs_workers` row every `interval` seconds while a worker runs."""

    def __init__(self, *, engine_factory: Callable[[], Engine], interval: float = 5.0) -> None:
        self.engine_factory = engine_factory
        self.interval = interval
        self._lock = threading.Lock()
        self._in_flight = 0
        self._processed = 0
        self._failed = 0
        self._queues: list[str] = []
        self._started_at = utcnow()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        queues = worker.consumer_whitelist or broker.get_declared_queues()
        self._queues = sorted(q for q in queues if not q.endswith((".DQ", ".XQ")))
        self._started_at = utcnow()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="bookjobs-heartbeat", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.interval + 5)
        try:
            with self.engine_factory().begin() as connection:
                connection.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker_id()))
        except Exception:
            logger.warning("Could not remove the heartbeat of %s.", worker_id(), exc_info=True)

    def before_process_message(self, broker: dramatiq.Broker, message) -> None:
        reserved.started(message.message_id)
        message._heartbeat_counted = True
        with self._lock:
            self._in_flight += 1

    def after_process_message(self, broker: dramatiq.Broker, message, *, result=None, exception=None) -> None:
        self._finish(message, failed=exception is not None)

    def after_skip_message(self, broker: dramatiq.Broker, message) -> None:
        reserved.started(message.message_id)
        self._finish(message, failed=False)

    def _finish(self, message, *, failed: bool) -> None:
        if not getattr(message, "_heartbeat_counted", False):
            return  # skipped before this middleware saw it start
        with self._lock:
            self._in_flight -= 1
            self._processed += 1
            self._failed += failed

    def _run(self) -> None:
        beats = 0
        while True:
            try:
                self.beat()
                if beats % PRUNE_EVERY_BEATS == 0:
                    self.prune()
            except Exception:
                logger.warning("Heartbeat of %s failed.", worker_id(), exc_info=True)
            beats += 1
            if self._stop.wait(self.interval):
                return

    def prune(self) -> None:
        """Remove the rows of workers silent for long (killed ones never remove their own)."""
        silent_for = timedelta(seconds=max(PRUNE_AFTER_SECONDS, self.interval * PRUNE_EVERY_BEATS))
        with db.session_scope() as session:
            pruned = ledger_service.prune_workers(session, silent_for=silent_for)
        if pruned:
            logger.info("Removed %d heartbeat rows of workers silent for over %s.", pruned, silent_for)

    def beat(self) -> None:
        """Write this worker's row now."""
        with self._lock:
            row = {
                "worker_id": worker_id(),
                "hostname": HOSTNAME,
                "pid": os.getpid(),
                "queues": self._queues,
                "started_at": self._started_at,
                "last_seen": utcnow(),
                "in_flight": self._in_flight,
                "processed": self._processed,
                "failed": self._failed,
                "reserved": reserved.held(),
                "rss_mb": round(resident_mb(), 1),
            }
        engine = self.engine_factory()
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        statement = insert(WorkerHeartbeat).values(row)
        statement = statement.on_conflict_do_update(
            index_elements=[WorkerHeartbeat.worker_id],
            set_={key: statement.excluded[key] for key in row if key != "worker_id"},
        )
        with engine.begin() as connection:
            connection.execute(statement)
