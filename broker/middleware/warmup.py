"""Load what a queue's jobs need when a worker that consumes that queue boots, not at its first job."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import dramatiq

logger = logging.getLogger(__name__)


class Warmup(dramatiq.Middleware):
    """Calls `warm` on a background thread in each worker process that consumes `queue_name`.

    A worker started with other `--queues` never calls it, so a worker serving only `email` never
    loads the NLP models; jobs that arrive while `warm` runs wait for the same lock it holds.
    """

    def __init__(self, *, queue_name: str, warm: Callable[[], None]) -> None:
        self.queue_name = queue_name
        self.warm = warm

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        whitelist = worker.consumer_whitelist
        if whitelist and self.queue_name not in whitelist:
            return
        threading.Thread(target=self._run, name=f"warmup-{self.queue_name}", daemon=True).start()

    def _run(self) -> None:
        try:
            self.warm()
        except Exception:  # the first job will try again and report it
            logger.exception("Warming up for queue %r failed.", self.queue_name)
