"""A job that fails for good is one WARNING line in the worker's log, not an ERROR with a traceback."""

from __future__ import annotations

import logging

from broker import log_filters
from domain.errors import NotFound


def log_failure(error: Exception) -> None:
    logger = logging.getLogger(log_filters.WORKER_THREAD_LOGGER)
    try:
        raise error
    except Exception:
        logger.error("Failed to process message %s with unhandled exception.", "send_email(1)", exc_info=True)


def test_a_permanent_failure_is_one_warning_line_and_a_bug_keeps_its_traceback(caplog):
    log_filters.install()
    log_filters.install()  # twice: still one filter
    with caplog.at_level(logging.INFO):
        log_failure(NotFound("User 999999 not found."))
        log_failure(ZeroDivisionError("division by zero"))

    permanent, bug = caplog.records
    assert permanent.levelname == "WARNING" and permanent.exc_info is None
    assert permanent.getMessage() == (
        "send_email(1) failed for good (NotFound: User 999999 not found.); its traceback is in the ledger."
    )
    assert bug.levelname == "ERROR" and bug.exc_info is not None
    assert len(logging.getLogger(log_filters.WORKER_THREAD_LOGGER).filters) == 1
