"""A soft time limit: `SoftTimeLimitExceeded` raised inside a job that runs too long, so it can clean up.

Celery's `soft_time_limit`, set per actor (`soft_time_limit=` in ms) or per queue (`QueuePolicy`;
25 minutes on `books`, as the seeds had). The exception is an ordinary `Exception`: the job may catch
it, tidy up and re-raise (the job is then dead, a permanent failure), raise a `TransientError` to be
retried, or return. The hard limit (`time_limit`) comes later and is enforced by dramatiq's
TimeLimit, and for a job that never returns to Python, by the supervisor (`broker.hard_limits`).
"""

from __future__ import annotations

import logging
import threading
import time

import dramatiq
from dramatiq.middleware.threading import raise_thread_exception

logger = logging.getLogger(__name__)

#: Seconds between two looks at the deadlines, as dramatiq’s TimeLimit (each look costs a GIL hand-over).
CHECK_SECONDS = 1.0


class SoftTimeLimitExceeded(Exception):
    """A job ran past its soft time limit."""


class SoftTimeLimit(dramatiq.Middleware):
    """Raises `SoftTimeLimitExceeded` in a job's thread once, at its soft limit."""

    def __init__(self) -> None:
        # No lock on the per-job path: single dict operations are atomic under the GIL, and a lock
        # every job takes convoys eight threads (see broker.middleware.cancellation).
        self._deadlines: dict[int, float] = {}  # thread → monotonic deadline
        self._thread: threading.Thread | None = None

    @property
    def actor_options(self) -> set[str]:
        return {"soft_time_limit"}

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        self._thread = threading.Thread(target=self._run, name="bookjobs-soft-limits", daemon=True)
        self._thread.start()

    def before_process_message(self, broker: dramatiq.Broker, message) -> None:
        actor = broker.get_actor(message.actor_name)
        limit = message.options.get("soft_time_limit") or actor.options.get("soft_time_limit")
        if limit:
            self._deadlines[threading.get_ident()] = time.monotonic() + limit / 1000

    def after_process_message(self, broker: dramatiq.Broker, message, *, result=None, exception=None) -> None:
        self._deadlines.pop(threading.get_ident(), None)

    after_skip_message = after_process_message

    def _run(self) -> None:
        while True:
            now = time.monotonic()
            for thread, deadline in list(self._deadlines.items()):
                if deadline > now or self._deadlines.pop(thread, None) is None:
                    continue  # not yet, or the job ended meanwhile
                logger.warning("Soft time limit passed; raising SoftTimeLimitExceeded in thread %s.", thread)
                raise_thread_exception(thread, SoftTimeLimitExceeded)
            time.sleep(CHECK_SECONDS)
