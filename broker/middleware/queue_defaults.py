"""Give every actor its queue's retry and time-limit defaults unless it sets its own."""

from __future__ import annotations

import dramatiq
from dramatiq.common import q_name

from broker.policy import RetryWhen, policy_for


class QueueDefaults(dramatiq.Middleware):
    """Fills `max_retries`, `min_backoff`, `time_limit` and `retry_when` from the queue policy, and
    its priority: the actor's place among the jobs a worker holds (dramatiq's `priority`, lower first,
    unless the actor set its own) and each message's RabbitMQ priority unless the sender set one."""

    def after_declare_actor(self, broker: dramatiq.Broker, actor: dramatiq.Actor) -> None:
        policy = policy_for(actor.queue_name)
        options = actor.options
        options.setdefault("max_retries", policy.max_retries)
        options.setdefault("min_backoff", policy.min_backoff_ms)
        options.setdefault("time_limit", policy.time_limit_ms)
        options.setdefault("retry_when", RetryWhen(options["max_retries"]))
        if policy.soft_time_limit_ms:
            options.setdefault("soft_time_limit", policy.soft_time_limit_ms)
        if actor.priority == 0:
            actor.priority = -policy.priority

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message, delay: int | None) -> None:
        default_priority(message.queue_name, message.options)


def default_priority(queue_name: str, options: dict) -> None:
    """Give `options` the queue's default `broker_priority` unless it has one (a delay queue's
    messages count as their queue's)."""
    priority = policy_for(q_name(queue_name)).priority
    if priority and options.get("broker_priority") is None:
        options["broker_priority"] = priority
