"""The messages a worker process holds but has not started (prefetched), for `bookjobs inspect reserved`.

The RabbitMQ consumer adds each delivery as it arrives; the Heartbeats middleware removes it when
the job starts or is skipped, and reports what is left (deliveries of a closed connection are gone
back to the queue and are not reported).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

#: Reported at most this many per worker process (a deep prefetch can hold hundreds).
REPORTED = 100

#: id → (actor, queue, received, consumer). No lock: single dict operations are atomic under the GIL,
#: and a lock taken for every message convoys the worker threads (see broker.middleware.cancellation).
_held: dict[str, tuple[str, str, float, object]] = {}


def received(message_id: str, actor_name: str, queue_name: str, consumer: object) -> None:
    _held[message_id] = (actor_name, queue_name, time.time(), consumer)


def started(message_id: str) -> None:
    _held.pop(message_id, None)


def held() -> list[dict]:
    """The messages held and not started, oldest first (at most `REPORTED`)."""
    live = []
    for message_id, entry in list(_held.items()):
        if getattr(entry[3], "closed", False):  # its connection is gone: back in the queue
            _held.pop(message_id, None)
        else:
            live.append((message_id, entry))
    live.sort(key=lambda item: item[1][2])
    return [
        {
            "message_id": message_id,
            "actor_name": actor,
            "queue_name": queue,
            "received_at": datetime.fromtimestamp(at, UTC).isoformat(),
        }
        for message_id, (actor, queue, at, _) in live[:REPORTED]
    ]
