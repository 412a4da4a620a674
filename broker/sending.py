"""Enqueue an actor by name with arguments checked against its signature (CLI, dashboard)."""

from __future__ import annotations

from typing import Any

import dramatiq

from broker import arguments
from domain.errors import InvalidArgument, NotFound


def find_actor(broker: dramatiq.Broker, actor_name: str) -> dramatiq.Actor:
    """The actor called `actor_name`, or NotFound naming the known ones."""
    try:
        return broker.get_actor(actor_name)
    except dramatiq.errors.ActorNotFound:
        known = ", ".join(sorted(broker.actors)) or "none"
        raise NotFound(f"Unknown actor {actor_name!r}; known actors: {known}.") from None


def check_arguments(actor: dramatiq.Actor, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Raise InvalidArgument unless `args` and `kwargs` fit the actor's signature and type hints."""
    if not isinstance(args, list):
        raise InvalidArgument(f"Arguments of {actor.actor_name!r} must be a JSON list, not {args!r}.")
    if not isinstance(kwargs, dict):
        raise InvalidArgument(
            f"Keyword arguments of {actor.actor_name!r} must be a JSON object, not {kwargs!r}."
        )
    arguments.check_arguments(actor.fn, actor.actor_name, args, kwargs)


def send_by_name(
    broker: dramatiq.Broker,
    actor_name: str,
    args: list[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
    *,
    delay_ms: int | None = None,
    priority: int | None = None,
) -> dramatiq.Message:
    """Check and enqueue one message for `actor_name`; returns the message sent."""
    actor = find_actor(broker, actor_name)
    args, kwargs = args if args is not None else [], kwargs if kwargs is not None else {}
    check_arguments(actor, args, kwargs)
    if delay_ms is not None and delay_ms < 0:
        raise InvalidArgument(f"Delay must be zero or more milliseconds, not {delay_ms!r}.")
    options: dict[str, Any] = {}
    if priority is not None:
        if not 0 <= priority <= 10:
            raise InvalidArgument(f"Priority must be between 0 and 10, not {priority!r}.")
        options["broker_priority"] = priority
    return actor.send_with_options(args=tuple(args), kwargs=kwargs, delay=delay_ms or None, **options)
