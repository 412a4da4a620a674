"""What a running job can ask about itself: whether someone cancelled it."""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import CurrentMessage

from broker.middleware.cancellation import Cancellation, JobCancelled


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
