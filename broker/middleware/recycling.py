"""Replace a worker process after so many jobs, or once it holds too much memory.

The process asks itself to stop (SIGTERM, as the supervisor would): its in-flight jobs finish,
their acks go out, what it had prefetched goes back to the queue, and `bookjobs worker` starts a
fresh process in its place. Children of one supervisor take turns: a lock file lets only one of
them stop at a time, so the others keep consuming meanwhile.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading

import dramatiq

logger = logging.getLogger(__name__)

#: The lock file the children of one supervisor share (set by `bookjobs worker`).
LOCK_ENV = "BOOKJOBS_RECYCLE_LOCK"


class Recycling(dramatiq.Middleware):
    """Counts this process's jobs and its memory after each one; past a limit, stops the process."""

    def __init__(self, *, max_jobs: int = 0, max_memory_mb: int = 0) -> None:
        self.max_jobs = max_jobs
        self.max_memory_mb = max_memory_mb
        self._jobs = 0
        self._lock = threading.Lock()
        self._stopping = False
        self._turn: int | None = None  # the lock file, held until this process exits

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if LOCK_ENV not in os.environ:
            # Under `dramatiq actors` (or `bookjobs up`) nothing would start a replacement, and
            # dramatiq stops every process when one exits: the limits are not applied there.
            logger.warning("Worker recycling needs `bookjobs worker`; the limits are ignored here.")
            self.max_jobs = self.max_memory_mb = 0

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        self._count()

    def after_skip_message(self, broker, message) -> None:
        self._count()

    def _count(self) -> None:
        if not (self.max_jobs or self.max_memory_mb):
            return
        with self._lock:
            self._jobs += 1
            if self._stopping:
                return
            reason = self._reason()
            if reason is None or not self._take_turn():
                return
            self._stopping = True
        logger.info("Recycling worker process %d: %s.", os.getpid(), reason)
        os.kill(os.getpid(), signal.SIGTERM)

    def _reason(self) -> str | None:
        if self.max_jobs and self._jobs >= self.max_jobs:
            return f"{self._jobs} jobs done (--max-jobs-per-child {self.max_jobs})"
        if self.max_memory_mb:
            rss = resident_mb()
            if rss >= self.max_memory_mb:
                return f"{rss:.0f} MB resident (--max-memory-per-child {self.max_memory_mb})"
        return None

    def _take_turn(self) -> bool:
        """True when no sibling is stopping right now."""
        descriptor = os.open(os.environ[LOCK_ENV], os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False  # a sibling is being replaced: try again after the next job
        self._turn = descriptor  # released by the kernel when this process exits
        return True


def resident_mb() -> float:
    """This process's resident memory now, in MB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024
