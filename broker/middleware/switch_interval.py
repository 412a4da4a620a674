"""How often a worker process's threads hand the GIL to each other."""

from __future__ import annotations

import sys

import dramatiq


class SwitchInterval(dramatiq.Middleware):
    """Sets CPython's switch interval while a worker runs (`sys.setswitchinterval`), restored after.

    A worker process is a consumer thread, worker threads and the ledger's flusher sharing one GIL.
    CPython asks a running thread to let go every 5 ms; each such hand-over also wakes threads that
    only wanted the GIL for a moment. At 10 ms, `python -m benchmarks.switch_interval` drains no-op
    jobs faster (README, "Benchmarks"); a thread blocking on I/O lets go at once either way.
    """

    def __init__(self, *, seconds: float) -> None:
        self.seconds = seconds
        self._previous: float | None = None

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._previous = sys.getswitchinterval()
        sys.setswitchinterval(self.seconds)

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if self._previous is not None:
            sys.setswitchinterval(self._previous)
            self._previous = None
