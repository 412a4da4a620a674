"""The ledger writer: job events merged in memory and upserted in batches by one flusher thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, func
from sqlalchemy.dialects import postgresql, sqlite

from domain.models.base import utcnow
from domain.models.jobs import Job

logger = logging.getLogger(__name__)

#: Columns every event may fill; an event's None never erases what an earlier event wrote.
KEPT_COLUMNS = (
    "eta",
    "started_at",
    "finished_at",
    "duration_ms",
    "worker_id",
    "result",
    "error_type",
    "error_message",
    "traceback",
)
#: Columns an event with at least the row's progress overwrites.
STATE_COLUMNS = ("status", "progress", "retries", "options", "priority", "queue_name", "updated_at")

Event = dict[str, Any]


def merge_events(older: Event, newer: Event) -> Event:
    """Fold two events of one message the way the upsert does: progress decides, None never erases."""
    if newer["progress"] < older["progress"]:
        older, newer = newer, older
    merged = dict(older)
    merged.update({key: value for key, value in newer.items() if value is not None})
    return merged


class LedgerWriter:
    """Collects job events from any thread and writes them in batches, one upsert per message."""

    def __init__(self, engine_factory: Callable[[], Engine], *, max_batch: int = 1000) -> None:
        self._engine_factory = engine_factory
        self._max_batch = max_batch
        self._pending: dict[str, Event] = {}
        self._condition = threading.Condition()
        self._last_seq = 0
        self._flushed_seq = 0
        self._thread: threading.Thread | None = None
        self._stopping = False

    def record(self, event: Event) -> int:
        """Queue `event` for writing and return its sequence number (see `wait_flushed`)."""
        with self._condition:
            message_id = event["message_id"]
            previous = self._pending.get(message_id)
            self._pending[message_id] = event if previous is None else merge_events(previous, event)
            self._last_seq += 1
            self._condition.notify_all()
            if self._thread is None:
                self._start()
            return self._last_seq

    def wait_flushed(self, seq: int, timeout: float | None = None) -> bool:
        """Block until the event numbered `seq` is committed; False if `timeout` passed first."""
        with self._condition:
            return self._condition.wait_for(lambda: self._flushed_seq >= seq, timeout=timeout)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Block until everything recorded so far is committed."""
        with self._condition:
            seq = self._last_seq
        return self.wait_flushed(seq, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is pending and stop the flusher thread."""
        self.flush(timeout)
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def _start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="bookjobs-ledger", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        backoff = 0.1
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._pending or self._stopping)
                if not self._pending and self._stopping:
                    return
                batch, self._pending = self._pending, {}
                seq = self._last_seq
            try:
                self._write(list(batch.values()))
            except Exception:
                logger.exception("Ledger write of %d events failed; retrying in %.1f s.", len(batch), backoff)
                self._requeue(batch)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.1
            with self._condition:
                self._flushed_seq = seq
                self._condition.notify_all()

    def _requeue(self, batch: dict[str, Event]) -> None:
        with self._condition:
            for message_id, event in batch.items():
                newer = self._pending.get(message_id)
                self._pending[message_id] = event if newer is None else merge_events(event, newer)

    def _write(self, events: list[Event]) -> None:
        engine = self._engine_factory()
        with engine.begin() as connection:
            for start in range(0, len(events), self._max_batch):
                chunk = events[start : start + self._max_batch]
                connection.execute(upsert_statement(connection.dialect.name), [complete(e) for e in chunk])


def complete(event: Event) -> Event:
    """An event with every column present, as an executemany needs."""
    row = {column: None for column in (*KEPT_COLUMNS, *STATE_COLUMNS)}
    row.update(event)
    row["updated_at"] = event.get("updated_at") or utcnow()
    return row


def upsert_statement(dialect_name: str):
    """INSERT … ON CONFLICT that moves a row only forward and lets None keep the old value."""
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    statement = insert(Job)
    table = Job.__table__
    excluded = statement.excluded
    updates = {column: excluded[column] for column in STATE_COLUMNS}
    updates.update({column: func.coalesce(excluded[column], table.c[column]) for column in KEPT_COLUMNS})
    return statement.on_conflict_do_update(
        index_elements=[table.c.message_id],
        set_=updates,
        where=excluded.progress >= table.c.progress,
    )
