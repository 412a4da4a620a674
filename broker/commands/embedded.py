"""The embedded default: in-memory broker, worker threads and SQLite in one process."""

from __future__ import annotations

import logging

import dramatiq

from broker.commands.common import load_actors
from broker.relay import Relay, RelayThread
from broker.settings import Settings
from domain import db, migrate
from periodic.runner import SchedulerThread, build_scheduler
from periodic.sampler import QueueSampler

logger = logging.getLogger(__name__)


class EmbeddedRuntime:
    """Everything `bookjobs up` runs in one process when there is no BROKER_URL: workers and scheduler."""

    def __init__(self, settings: Settings, *, worker_threads: int = 4, modules: tuple[str, ...] = ()) -> None:
        if not settings.is_embedded:
            raise ValueError("EmbeddedRuntime needs BROKER_URL=memory://")
        self.settings = settings
        self.modules = modules
        self.worker_threads = worker_threads
        self.broker: dramatiq.Broker | None = None
        self.worker: dramatiq.Worker | None = None
        self.scheduler: SchedulerThread | None = None
        self.sampler: QueueSampler | None = None
        self.relay: RelayThread | None = None

    def start(self) -> dramatiq.Broker:
        """Migrate the database, declare the actors, and start the worker threads."""
        migrate.upgrade(db.configure(self.settings.database_url))
        broker = load_actors(self.settings, self.modules)
        # dramatiq's CLI emits process_boot in each worker process; TimeLimit starts its timer thread then.
        broker.emit_after("process_boot")
        self.worker = dramatiq.Worker(broker, worker_threads=self.worker_threads, worker_timeout=100)
        self.worker.start()
        self.scheduler = SchedulerThread(build_scheduler(broker))
        self.scheduler.start()
        self.sampler = QueueSampler(broker, self.settings.broker_url)
        self.sampler.start()
        self.relay = RelayThread(Relay(broker))
        self.relay.start()
        self.broker = broker
        logger.info(
            "Embedded runtime up: %d worker threads, database %s.",
            self.worker_threads,
            self.settings.database_url,
        )
        return broker

    def stop(self) -> None:
        """Stop the scheduler, then the worker threads after their current jobs, and write the ledger out."""
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        if self.sampler is not None:
            self.sampler.stop()
            self.sampler = None
        if self.relay is not None:
            self.relay.stop()
            self.relay = None
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        if self.broker is not None:
            self.broker.close()
            self.broker = None
