"""dramatiq's Retries, except that a retry which cannot be enqueued is never acked away (dramatiq #545).

dramatiq's Retries enqueues the retry from `after_process_message`; if that publish fails, dramatiq
logs the error and acks the original anyway, so the job is gone. Here the publish is tried again
with backoff (the broker usually comes back within seconds); if it still fails, the message is
failed, so it is nacked into the dead-letter queue and the ledger says why, instead of vanishing.
"""

from __future__ import annotations

import time

import dramatiq
from dramatiq.common import compute_backoff
from dramatiq.middleware import Retries as DramatiqRetries
from dramatiq.middleware.retries import DEFAULT_MAX_BACKOFF

from broker.middleware.cancellation import JobCancelled

#: Seconds to wait before each further attempt to enqueue a retry (about half a minute in all).
ENQUEUE_BACKOFF = (0.5, 1, 2, 4, 8, 16)


class RetryNotEnqueued(Exception):
    """The retry of a failed job could not be published, so the job was dead-lettered instead."""


class Retries(DramatiqRetries):
    """dramatiq's Retries with the enqueue of each retry guarded."""

    def __init__(self, *, enqueue_backoff: tuple[float, ...] = ENQUEUE_BACKOFF, **options) -> None:
        super().__init__(**options)
        self.enqueue_backoff = enqueue_backoff

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        if isinstance(exception, JobCancelled):
            return  # final: not retried and not failed, so it is acked (not dead-lettered)
        try:
            super().after_process_message(broker, message, result=result, exception=exception)
        except Exception as error:  # only broker.enqueue, the last step of the parent, can raise here
            self._enqueue_or_fail(broker, message, error)

    def _enqueue_or_fail(self, broker: dramatiq.Broker, message, error: Exception) -> None:
        delay = self._backoff(broker, message)
        for pause in self.enqueue_backoff:
            self.logger.warning(
                "Could not enqueue the retry of %s (%s); trying again in %s s.",
                message.message_id,
                error,
                pause,
            )
            time.sleep(pause)
            try:
                broker.enqueue(message, delay=delay)
                return
            except Exception as again:
                error = again
        self.logger.error("Retry of %s could not be enqueued; dead-lettering it.", message.message_id)
        reason = RetryNotEnqueued(
            f"The retry could not be enqueued ({type(error).__name__}: {error}), so the job was "
            "dead-lettered instead of lost; requeue it from the dashboard."
        )
        reason.__cause__ = error
        message._retry_error = reason
        message.fail()

    def _backoff(self, broker: dramatiq.Broker, message) -> int:
        actor = broker.get_actor(message.actor_name)
        min_backoff = message.options.get("min_backoff", actor.options.get("min_backoff", self.min_backoff))
        max_backoff = message.options.get("max_backoff", actor.options.get("max_backoff", self.max_backoff))
        retries = max(message.options.get("retries", 1) - 1, 0)
        return compute_backoff(
            retries, factor=min_backoff, max_backoff=min(max_backoff, DEFAULT_MAX_BACKOFF)
        )[1]
