"""Refuse what cannot be a good job before it costs anything: oversized messages, mistyped arguments."""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import MiddlewareError, SkipMessage

from broker.arguments import check_arguments
from domain.errors import InvalidArgument


class MessageGuard(dramatiq.Middleware):
    """`send()` of a message over `max_bytes` fails at once; a job whose arguments do not fit its
    actor's signature and type hints is dead at once (InvalidArgument), with the reason in the ledger.

    An actor may name a `validate` function (same parameters as the actor, raising InvalidArgument):
    it runs at `send()`, so the sender hears of a mistake at once, and again before the job runs,
    for bodies published by other means.
    """

    actor_options = {"validate"}

    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message, delay: int | None) -> None:
        size = len(message.encode())
        if size > self.max_bytes:
            raise MessageTooLarge(
                f"Message for {message.actor_name!r} is {size} bytes, over "
                f"MAX_MESSAGE_BYTES={self.max_bytes}: send an id and let the job load the data."
            )
        validate = _validator(broker, message.actor_name)
        if validate is not None:
            try:
                validate(*message.args, **message.kwargs)
            except InvalidArgument as error:
                raise RefusedAtSend(str(error)) from None

    def before_process_message(self, broker: dramatiq.Broker, message) -> None:
        actor = broker.get_actor(message.actor_name)
        try:
            check_arguments(actor.fn, actor.actor_name, list(message.args), dict(message.kwargs))
            validate = actor.options.get("validate")
            if validate is not None:
                validate(*message.args, **message.kwargs)
        except InvalidArgument as error:
            # dramatiq swallows ordinary exceptions raised here; a failed SkipMessage dead-letters the job.
            message.fail()
            raise RejectedArguments(str(error)) from None


def _validator(broker: dramatiq.Broker, actor_name: str):
    actor = broker.actors.get(actor_name)
    return actor.options.get("validate") if actor is not None else None


class RefusedAtSend(InvalidArgument, MiddlewareError):
    """An actor's `validate` refused the arguments of a `send()`; it reaches the sender."""


class MessageTooLarge(InvalidArgument, MiddlewareError):
    """A message over MAX_MESSAGE_BYTES; a MiddlewareError, so dramatiq lets it reach the sender."""


class RejectedArguments(SkipMessage):
    """A job's arguments do not fit its actor's signature or type hints: dead at once, never run."""
