"""Check a delivered body once, at the boundary, before any middleware or the ledger sees it.

Anything a publisher can put in a body (plain pika, another language, a bug) is checked here:
types, lengths, ranges and the queue it came from. A body that does not fit is dead-lettered with
the reason; one that fits can no longer stop a thread, a consumer or the ledger writer.
"""

from __future__ import annotations

import time
from typing import Any

import dramatiq
from dramatiq import Message

#: The ledger's key column is 64 characters; a longer id could collide with another one cut short.
MAX_MESSAGE_ID = 64
#: The ledger's actor and queue columns.
MAX_NAME = 200
#: Deeper JSON than this is no job argument, and would exhaust the recursion of whoever walks it.
MAX_DEPTH = 64
#: RabbitMQ priorities of bookjobs' queues (x-max-priority).
MAX_PRIORITY = 10
#: 2000-01-01 in epoch milliseconds: an earlier enqueue time is a unit mistake, not a job.
EARLIEST_TIMESTAMP_MS = 946_684_800_000
#: How far ahead of this clock a sender's clock may run.
MAX_CLOCK_SKEW_MS = 366 * 24 * 3600 * 1000
#: Options dramatiq and bookjobs read as whole numbers, with the range each may take.
INTEGER_OPTIONS: dict[str, tuple[int, int]] = {
    "broker_priority": (0, MAX_PRIORITY),
    "retries": (0, 1_000_000),
    "max_retries": (0, 1_000_000),
    "min_backoff": (0, 2**31),
    "max_backoff": (0, 2**31),
    "time_limit": (0, 2**31),
    "soft_time_limit": (0, 2**31),
    "max_age": (0, 2**31),
    "outbox_id": (1, 2**63 - 1),
    "duplicate_checks": (0, 1_000_000),
}
#: Options `_check_options` looks at; a body without any of them needs no option check.
CHECKED_OPTIONS = frozenset({*INTEGER_OPTIONS, "eta"})
CONTAINERS = frozenset({dict, list})
FIELDS = frozenset(
    {"queue_name", "actor_name", "args", "kwargs", "options", "message_id", "message_timestamp"}
)


class InvalidEnvelope(ValueError):
    """A delivered body that is not a message bookjobs can run; the text says what is wrong."""


def decode_envelope(body: bytes, *, queue_name: str) -> Message:
    """The message in `body` delivered on `queue_name`, or InvalidEnvelope naming the first problem."""
    try:
        data = dramatiq.get_encoder().decode(body)
    except Exception as error:
        cause = error.__cause__ or error
        raise InvalidEnvelope(f"Not a dramatiq message ({type(cause).__name__}: {cause}).") from None
    check_envelope(data, queue_name=queue_name)
    return Message(**data)


def check_envelope(data: Any, *, queue_name: str, now_ms: int | None = None) -> None:
    """InvalidEnvelope unless `data` is a complete, well-typed message body for `queue_name`."""
    if now_ms is None:
        now_ms = int(time.time() * 1000)
    if _plainly_valid(data, queue_name, now_ms):
        return
    _find_fault(data, queue_name, now_ms)


def _plainly_valid(data: Any, queue_name: str, now_ms: int) -> bool:
    """The common case in one expression (this runs on the consumer thread for every delivery):
    a body of the right shape whose arguments hold no containers and whose options need no check.
    False sends the body through `_find_fault`, which checks everything and names the fault."""
    if type(data) is not dict or data.keys() != FIELDS:
        return False
    message_id, actor_name, args, kwargs, options, timestamp = (
        data["message_id"],
        data["actor_name"],
        data["args"],
        data["kwargs"],
        data["options"],
        data["message_timestamp"],
    )
    return (
        data["queue_name"] == queue_name
        and type(message_id) is str
        and 0 < len(message_id) <= MAX_MESSAGE_ID
        and message_id.isprintable()
        and type(actor_name) is str
        and 0 < len(actor_name) <= MAX_NAME
        and actor_name.isprintable()
        and type(args) is list
        and type(kwargs) is dict
        and type(options) is dict
        and type(timestamp) is int
        and EARLIEST_TIMESTAMP_MS <= timestamp <= now_ms + MAX_CLOCK_SKEW_MS
        and not (options.keys() & CHECKED_OPTIONS)
        and not any(type(value) in CONTAINERS for value in args)
        and not any(type(value) in CONTAINERS for value in kwargs.values())
        and not any(type(value) in CONTAINERS for value in options.values())
    )


def _find_fault(data: Any, queue_name: str, now_ms: int) -> None:
    """The full check of `check_envelope`: InvalidEnvelope for the first fault it finds, if any."""
    if not isinstance(data, dict):
        raise InvalidEnvelope(f"The body is a JSON {_json_type(data)}, not an object.")
    if data.keys() != FIELDS:
        missing = sorted(FIELDS - data.keys())
        if missing:
            raise InvalidEnvelope(f"The body lacks {', '.join(missing)}.")
        extra = sorted(data.keys() - FIELDS)
        raise InvalidEnvelope(f"The body has unknown fields {', '.join(map(repr, extra))}.")
    _check_text("message_id", data["message_id"], MAX_MESSAGE_ID)
    _check_text("actor_name", data["actor_name"], MAX_NAME)
    _check_text("queue_name", data["queue_name"], MAX_NAME)
    if data["queue_name"] != queue_name:
        raise InvalidEnvelope(
            f"The body names queue {data['queue_name']!r:.80} but was delivered on {queue_name!r}."
        )
    _check_type("args", data["args"], list)
    _check_type("kwargs", data["kwargs"], dict)
    _check_type("options", data["options"], dict)
    _check_timestamp(data["message_timestamp"], now_ms)
    _check_options(data["options"])
    _check_depth(data)


def _check_text(field: str, value: Any, max_length: int) -> None:
    if not isinstance(value, str):
        raise InvalidEnvelope(f"{field} must be a string, not {_json_type(value)} {value!r:.80}.")
    if not value:
        raise InvalidEnvelope(f"{field} is empty.")
    if len(value) > max_length:
        raise InvalidEnvelope(f"{field} is {len(value)} characters long; at most {max_length} are allowed.")
    if not value.isprintable():
        raise InvalidEnvelope(f"{field} {value!r:.80} contains control characters.")


def _check_type(field: str, value: Any, expected: type) -> None:
    if not isinstance(value, expected):
        raise InvalidEnvelope(
            f"{field} must be a JSON {_json_type(expected())}, not {_json_type(value)} {value!r:.80}."
        )


def _check_timestamp(value: Any, now_ms: int) -> None:
    if not _is_integer(value):
        raise InvalidEnvelope(
            f"message_timestamp must be whole milliseconds since 1970, not {_json_type(value)} {value!r:.80}."
        )
    if not EARLIEST_TIMESTAMP_MS <= value <= now_ms + MAX_CLOCK_SKEW_MS:
        raise InvalidEnvelope(
            f"message_timestamp {value} is not a time in milliseconds between 2000 and a year from now."
        )


def _check_options(options: dict) -> None:
    for name, (low, high) in INTEGER_OPTIONS.items():
        value = options.get(name)
        if value is None:
            continue
        if not _is_integer(value) or not low <= value <= high:
            raise InvalidEnvelope(
                f"options.{name} must be a whole number from {low} to {high}, not {value!r:.80}."
            )
    eta = options.get("eta")
    if eta is not None and (isinstance(eta, bool) or not isinstance(eta, int | float)):
        raise InvalidEnvelope(f"options.eta must be milliseconds since 1970, not {eta!r:.80}.")


def _check_depth(data: Any) -> None:
    """InvalidEnvelope when `data` nests deeper than MAX_DEPTH (walked without recursion; only
    containers are pushed, so a body of plain values costs one pass over each level)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidEnvelope(f"The body nests deeper than {MAX_DEPTH} levels.")
        for child in value.values() if isinstance(value, dict) else value:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
