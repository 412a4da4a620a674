"""Refuse what cannot be a good job before it costs anything: oversized messages, mistyped arguments."""

from __future__ import annotations

import inspect
import types
import typing
from functools import lru_cache
from typing import Any

import dramatiq
from dramatiq.middleware import MiddlewareError, SkipMessage

from domain.errors import InvalidArgument

#: Annotations checked against JSON values; anything else (a dataclass, Any, a TypedDict) is left alone.
SIMPLE_TYPES: dict[Any, tuple[type, ...]] = {
    int: (int,),
    float: (int, float),
    str: (str,),
    bool: (bool,),
    list: (list, tuple),
    dict: (dict,),
    type(None): (type(None),),
}


class MessageGuard(dramatiq.Middleware):
    """`send()` of a message over `max_bytes` fails at once; a job whose arguments do not fit its
    actor's signature and type hints is dead at once (InvalidArgument), with the reason in the ledger."""

    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message, delay: int | None) -> None:
        size = len(message.encode())
        if size > self.max_bytes:
            raise MessageTooLarge(
                f"Message for {message.actor_name!r} is {size} bytes, over "
                f"MAX_MESSAGE_BYTES={self.max_bytes}: send an id and let the job load the data."
            )

    def before_process_message(self, broker: dramatiq.Broker, message) -> None:
        actor = broker.get_actor(message.actor_name)
        try:
            check_arguments(actor.fn, actor.actor_name, list(message.args), dict(message.kwargs))
        except InvalidArgument as error:
            # dramatiq swallows ordinary exceptions raised here; a failed SkipMessage dead-letters the job.
            message.fail()
            raise RejectedArguments(str(error)) from None


class MessageTooLarge(InvalidArgument, MiddlewareError):
    """A message over MAX_MESSAGE_BYTES; a MiddlewareError, so dramatiq lets it reach the sender."""


class RejectedArguments(SkipMessage):
    """A job's arguments do not fit its actor's signature or type hints: dead at once, never run."""


def check_arguments(fn, actor_name: str, args: list, kwargs: dict) -> None:
    """InvalidArgument naming the first argument that is missing, extra, or of the wrong JSON type."""
    signature, hints = _signature(fn)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as error:
        raise InvalidArgument(f"Arguments do not fit {actor_name}{signature}: {error}.") from None
    for name, value in bound.arguments.items():
        allowed = _allowed_types(hints.get(name))
        if allowed and not _is_instance(value, allowed):
            raise InvalidArgument(
                f"Argument {name!r} of {actor_name} must be {_describe(hints[name])}, not "
                f"{type(value).__name__} {value!r:.80}."
            )


@lru_cache(maxsize=1024)
def _signature(fn) -> tuple[inspect.Signature, dict[str, Any]]:
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # an annotation that does not resolve: check the shape only
        hints = {}
    return inspect.signature(fn), hints


def _allowed_types(hint: Any) -> tuple[type, ...] | None:
    if hint is None:
        return None
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        parts = [_allowed_types(arg) for arg in typing.get_args(hint)]
        return None if any(p is None for p in parts) else tuple(t for p in parts for t in p)
    return SIMPLE_TYPES.get(typing.get_origin(hint) or hint)


def _is_instance(value: Any, allowed: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in allowed:  # JSON true is no number
        return False
    return isinstance(value, allowed)


def _describe(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
