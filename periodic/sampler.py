"""Samples every queue's depth and its oldest waiting job's age into the database, beside the scheduler."""

from __future__ import annotations

import logging
import threading

import dramatiq

from broker.queue_depths import queue_counts
from domain import db
from domain import queue_samples as samples
from domain.models.base import utcnow

logger = logging.getLogger(__name__)

#: Seconds between samples (several schedulers share the slots: one row per queue per slot).
SAMPLE_SECONDS = 15.0


class QueueSampler:
    """A daemon thread that samples the queues every `every` seconds until stopped."""

    def __init__(self, broker: dramatiq.Broker, broker_url: str, *, every: float = SAMPLE_SECONDS) -> None:
        self.broker, self.broker_url, self.every = broker, broker_url, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bookjobs-queue-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def sample(self) -> int:
        """Take one sample now; returns how many queues it stored."""
        counts = queue_counts(self.broker, self.broker_url)
        depths = [samples.Depth(c.name, c.ready, c.delayed, c.dead) for c in counts]
        with db.session_scope() as session:
            return samples.record(session, depths, at=utcnow(), every_seconds=self.every)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample()
            except Exception:
                logger.warning("Could not sample the queues.", exc_info=True)
            self._stop.wait(self.every)
