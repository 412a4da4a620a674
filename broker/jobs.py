"""What a running job can ask about itself (was it cancelled?) and tell about itself (its progress)."""

from __future__ import annotations

import threading
import time

import dramatiq
from dramatiq.middleware import CurrentMessage

from broker.middleware.cancellation import Cancellation, JobCancelled
from domain import db
from domain import ledger as ledger_service

#: Progress is written at most this often per job (the last step always is).
PROGRESS_EVERY_SECONDS = 0.5
_progress_written: dict[str, float] = {}
_progress_lock = threading.Lock()


def cancelled() -> bool:
    """True once this job's cancel has reached its worker (`bookjobs cancel`, the API, the dashboard).

    A job that checks at safe points can stop cleanly; one that never checks is aborted anyway.
    """
    message = CurrentMessage.get_current_message()
    if message is None:
        return False
    watcher = next((m for m in dramatiq.get_broker().middleware if isinstance(m, Cancellation)), None)
    return watcher is not None and watcher.is_cancelled(message.message_id)


def stop_if_cancelled() -> None:
    """Raise `JobCancelled` (the job ends `cancelled`, not retried) if this job was cancelled."""
    if cancelled():
        raise JobCancelled("The job saw its cancel and stopped.")


def current_job_id() -> str | None:
    """The message id of the job running in this thread, or None outside a job."""
    message = CurrentMessage.get_current_message()
    return message.message_id if message is not None else None


def current_option(name: str) -> object:
    """An option of the message running in this thread (None outside a job or if it has none)."""
    message = CurrentMessage.get_current_message()
    return message.options.get(name) if message is not None else None


def progress(done: int, total: int, note: str | None = None, *, job: str | None = None) -> bool:
    """Tell the ledger that `done` of `total` steps (`note` names them) are finished.

    It shows as a bar on the dashboard's job and queue pages and in `GET /api/jobs/{id}`. `job` is
    this job by default, or another one: the chapters of a book report to the `process_book` job
    that fanned them out. Writes at most every half second per job, except the last step; returns
    whether it wrote. Outside a job (`job` unknown) it does nothing.
    """
    target = job or current_job_id()
    if target is None:
        return False
    now = time.monotonic()
    with _progress_lock:
        if done < total and now - _progress_written.get(target, float("-inf")) < PROGRESS_EVERY_SECONDS:
            return False
        _progress_written[target] = now
        if done >= total:
            _progress_written.pop(target, None)
        elif len(_progress_written) > 10_000:
            _progress_written.clear()
    if _write_progress(target, done, total, note):
        return True
    # The job's row may not be written yet: its sender's event still buffered in another process,
    # and a job younger than the ledger's linger not announced as running. Write it now, then again.
    flush_ledger(announce=target)
    return _write_progress(target, done, total, note)


def _write_progress(message_id: str, done: int, total: int, note: str | None) -> bool:
    with db.session_scope() as session:
        return ledger_service.set_progress(session, message_id, done=done, total=total, note=note)


def flush_ledger(
    broker: dramatiq.Broker | None = None, timeout: float = 5.0, *, announce: str | None = None
) -> bool:
    """Write this process's pending ledger events now (a page or a query right after sees them),
    with the `running` event of job `announce` if it runs here; False if they could not all be
    written within `timeout`."""
    written = True
    for middleware in (broker or dramatiq.get_broker()).middleware:
        writer = getattr(middleware, "writer", None)
        if writer is not None:
            if announce is not None:
                writer.announce(announce)
            written = writer.flush(timeout) and written
    return written
