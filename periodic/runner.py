"""Wire the scheduler to a broker, in its own process (`bookjobs scheduler`) or a thread (`bookjobs up`)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

import dramatiq

from broker.workers import worker_id
from periodic.schedule import ScheduleRow, load_table
from periodic.scheduler import Enqueue, Scheduler

logger = logging.getLogger(__name__)


def broker_enqueue(broker: dramatiq.Broker) -> Enqueue:
    """Send one slot's message: the slot time in `scheduled_at`, the id derived from the slot."""

    def enqueue(actor_name: str, slot_at: datetime, message_id: str) -> None:
        message = broker.get_actor(actor_name).message_with_options(scheduled_at=slot_at.isoformat())
        broker.enqueue(message.copy(message_id=message_id))

    return enqueue


def build_scheduler(broker: dramatiq.Broker, rows: tuple[ScheduleRow, ...] | None = None) -> Scheduler:
    """A scheduler over the rows (default: the table from the environment) whose actors exist."""
    table = load_table() if rows is None else rows
    declared = [row for row in table if row.enabled and row.actor_name in broker.actors]
    waiting = sorted(row.actor_name for row in table if row.enabled and row.actor_name not in broker.actors)
    if waiting:
        logger.info("Schedule rows without an actor yet (not scheduled): %s.", ", ".join(waiting))
    return Scheduler(
        declared,
        enqueue=broker_enqueue(broker),
        queue_of=lambda name: broker.get_actor(name).queue_name,
        scheduler_id=worker_id(),
    )


class SchedulerThread:
    """The scheduler in a background thread, for the embedded runtime."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=scheduler.run, args=(self._stop,), name="bookjobs-scheduler", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
