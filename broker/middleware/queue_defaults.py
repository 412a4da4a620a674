"""Give every actor its queue's retry and time-limit defaults unless it sets its own."""

from __future__ import annotations

import dramatiq

from broker.policy import RetryWhen, policy_for


class QueueDefaults(dramatiq.Middleware):
    """Fills `max_retries`, `min_backoff`, `time_limit` and `retry_when` from the queue policy."""

    def after_declare_actor(self, broker: dramatiq.Broker, actor: dramatiq.Actor) -> None:
        policy = policy_for(actor.queue_name)
        options = actor.options
        options.setdefault("max_retries", policy.max_retries)
        options.setdefault("min_backoff", policy.min_backoff_ms)
        options.setdefault("time_limit", policy.time_limit_ms)
        options.setdefault("retry_when", RetryWhen(options["max_retries"]))
