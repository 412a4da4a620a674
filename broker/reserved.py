"""The messages a worker process holds but has not started (prefetched), for `bookjobs inspect reserved`.

The RabbitMQ consumer adds each delivery as it arrives; the Heartbeats middleware removes it when
the job starts or is skipped, and reports what is left (deliveries of a closed connection are gone
back to the queue and are not reported).
"""

from __future__ import annotations

import threading
from datetime import datetime

from domain.models.base import utcnow

#: Reported at most this many per worker process (a deep prefetch can hold hundreds).
REPORTED = 100

_lock = threading.Lock()
_held: dict[str, tuple[str, str, datetime, object]] = {}  # id → (actor, queue, received, consumer)


def received(message_id: str, actor_name: str, queue_name: str, consumer: object) -> None:
    with _lock:
        _held[message_id] = (actor_name, queue_name, utcnow(), consumer)


def started(message_id: str) -> None:
    with _lock:
        _held.pop(message_id, None)


def held() -> list[dict]:
    """The messages held and not started, oldest first (at most `REPORTED`)."""
    with _lock:
        gone = [m for m, (_, _, _, consumer) in _held.items() if getattr(consumer, "closed", False)]
        for message_id in gone:
            del _held[message_id]
        rows = sorted(_held.items(), key=lambda item: item[1][2])[:REPORTED]
    return [
        {"message_id": m, "actor_name": actor, "queue_name": queue, "received_at": at.isoformat()}
        for m, (actor, queue, at, _) in rows
    ]
