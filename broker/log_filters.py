"""Log filters the entry points install: expected outcomes are not logged as crashes."""

from __future__ import annotations

import logging

from domain.errors import PermanentError

#: The logger dramatiq's worker threads report failed jobs on.
WORKER_THREAD_LOGGER = "dramatiq.worker.WorkerThread"


class PermanentFailures(logging.Filter):
    """dramatiq logs every failed job at ERROR with its traceback. A PermanentError (an unknown id,
    a bad argument, an SMTP 5xx) is an expected outcome whose traceback the ledger keeps, so it
    becomes one WARNING line; any other exception is left as dramatiq logs it."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, PermanentError):
            message = record.args[0] if isinstance(record.args, tuple) and record.args else "a job"
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
            record.msg = "%s failed for good (%s: %s); its traceback is in the ledger."
            record.args = (message, type(error).__name__, error)
            record.exc_info = record.exc_text = None
        return True


def install() -> None:
    """Attach the filters (idempotent)."""
    logger = logging.getLogger(WORKER_THREAD_LOGGER)
    if not any(isinstance(f, PermanentFailures) for f in logger.filters):
        logger.addFilter(PermanentFailures())
