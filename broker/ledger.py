"""The ledger writer: job events merged in memory and upserted in batches by one flusher thread."""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg2
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql

from domain.ledger_partitions import IS_PARTITIONED
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


class Written:
    """Becomes true once an event is committed; callbacks and waiters are released then.

    One is made per job, so it is kept small: a flag and a callback list under the writer's lock,
    and a threading.Event only for a caller that actually waits.
    """

    __slots__ = ("_callbacks", "_done", "_lock", "_waiter")

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._done = False
        self._callbacks: list[Callable[[], None]] = []
        self._waiter: threading.Event | None = None

    def mark(self) -> None:
        """Called by the flusher after the commit."""
        with self._lock:
            self._done = True
            callbacks, self._callbacks = self._callbacks, []
            waiter = self._waiter
        if waiter is not None:
            waiter.set()
        for callback in callbacks:
            callback()

    def then(self, callback: Callable[[], None]) -> None:
        """Run `callback` once written: now if it already is, else on the flusher thread."""
        with self._lock:
            if not self._done:
                self._callbacks.append(callback)
                return
        callback()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until written; False if `timeout` passed first."""
        with self._lock:
            if self._done:
                return True
            if self._waiter is None:
                self._waiter = threading.Event()
            waiter = self._waiter
        return waiter.wait(timeout)


@dataclass
class _Pending:
    event: Event
    due: float
    written: list[Written] = field(default_factory=list)


# What other threads put in the flusher's inbox: (kind, ...) tuples, read in order by the flusher alone.
_EVENT = "event"  # (_EVENT, event, due, written)
_STARTED = "started"  # (_STARTED, message_id, due, running)
_FINISHED = "finished"  # (_FINISHED, message_id)
_FLUSH = "flush"  # (_FLUSH, threading.Event set once everything before it is written)
_ANNOUNCE = "announce"  # (_ANNOUNCE, message_id): write that started job's `running` event now
_STOP = "stop"  # (_STOP,)


class LedgerWriter:
    """Collects job events from any thread and writes them in batches, one upsert per message.

    An urgent event (an ack waits for it) is written within `gather` seconds, together with every
    other event by then; the rest wait up to `linger` seconds. A job that `started()` gets its
    `running` event only if it is still running after `linger`: a short job costs one event and
    one row write, and a long job's `running` still shows within `linger`.

    Worker threads never wait for the flusher: they append to a deque (atomic in CPython) and set
    an Event only when the flusher sleeps past their event's due time. The flusher alone owns what
    is pending, so it holds no lock a worker could queue behind while it works out a batch.
    """

    def __init__(
        self,
        engine_factory: Callable[[], Engine],
        *,
        max_batch: int = 1000,
        linger: float = 0.05,
        gather: float = 0.002,
    ) -> None:
        self._engine_factory = engine_factory
        self._max_batch = max_batch
        self._linger = linger
        self._gather = min(gather, linger)
        self._inbox: deque[tuple] = deque()
        self._wake = threading.Event()
        self._wakes_at = -math.inf  # when the sleeping flusher wakes by itself; -inf while it is awake
        self._written_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # The flusher thread's own state.
        self._pending: dict[str, _Pending] = {}
        self._next_due = math.inf  # the earliest due time in _pending
        self._running: dict[str, tuple[float, Callable[[], Event]]] = {}
        self._flushes: list[threading.Event] = []
        self._stopping = False
        self._connection: Any = None
        self._dialect = ""

    def record(self, event: Event, *, urgent: bool = False) -> Written:
        """Queue `event`; the returned `Written` says when it is committed."""
        written = Written(self._written_lock)
        due = time.monotonic() + (self._gather if urgent else self._linger)
        self._hand_over((_EVENT, event, due, written), due)
        return written

    def started(self, message_id: str, running: Callable[[], Event]) -> None:
        """A job began: `running()` makes its event, recorded only if the job outlasts `linger`."""
        due = time.monotonic() + self._linger
        self._hand_over((_STARTED, message_id, due, running), due)

    def finished(self, message_id: str) -> None:
        """The job of `started(message_id)` ended; its final event says so (record it next)."""
        self._inbox.append((_FINISHED, message_id))  # only cancels an announcement: never wakes the flusher

    def announce(self, message_id: str) -> None:
        """Record the `running` event of started job `message_id` with the next write, however
        short it has run (a progress report needs the job's row); nothing if it is not running here."""
        self._hand_over((_ANNOUNCE, message_id), -math.inf)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Write everything recorded so far now; False if that took longer than `timeout`."""
        if self._thread is None:
            return True  # nothing was ever recorded, or close() wrote it all: no thread to start for it
        done = threading.Event()
        self._hand_over((_FLUSH, done), -math.inf)
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is pending and stop the flusher thread."""
        self.flush(timeout)
        thread = self._thread
        if thread is not None:
            self._hand_over((_STOP,), -math.inf)
            thread.join(timeout)
        self._thread = None
        self._discard_connection()

    def _hand_over(self, item: tuple, due: float) -> None:
        # Append first, then read _wakes_at: the flusher sets _wakes_at before its last look at the
        # inbox, so either it sees this item or this thread sees when it will wake (no lost wakeup).
        self._inbox.append(item)
        if due < self._wakes_at:
            self._wake.set()
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="bookjobs-ledger", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        backoff = 0.1
        while True:
            self._wakes_at = -math.inf
            self._wake.clear()
            self._take_inbox()
            now = time.monotonic()
            self._announce_long_jobs(now)
            if self._pending and (self._flushes or self._stopping or self._next_due <= now):
                # Everything pending goes along: one statement costs little more than a few.
                if self._write_pending():
                    backoff = 0.1
                else:
                    time.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                continue
            self._answer(self._flushes)  # nothing pending: every flush asked for so far is done
            self._flushes = []
            if self._stopping:
                return
            next_due = min([self._next_due, *(due for due, _ in self._running.values())])
            self._wakes_at = next_due
            if self._inbox:
                continue  # arrived before _wakes_at was set: its sender may not have woken us
            self._wake.wait(None if next_due == math.inf else max(next_due - now, 0.001))

    def _take_inbox(self) -> None:
        """Move what other threads handed over into the flusher's own state, in order."""
        inbox = self._inbox
        for _ in range(len(inbox)):
            item = inbox.popleft()
            kind = item[0]
            if kind is _EVENT:
                self._add(item[1], item[2], [item[3]])
            elif kind is _STARTED:
                self._running[item[1]] = (item[2], item[3])
            elif kind is _FINISHED:
                self._running.pop(item[1], None)
            elif kind is _FLUSH:
                self._flushes.append(item[1])
            elif kind is _ANNOUNCE:
                started = self._running.get(item[1])
                if started is not None:
                    self._running[item[1]] = (-math.inf, started[1])
            else:
                self._stopping = True

    def _write_pending(self) -> bool:
        """Write every pending event; on success release their waiters and the flushes asked before."""
        batch, self._pending, self._next_due = self._pending, {}, math.inf
        flushes, self._flushes = self._flushes, []
        try:
            self._write_batch([pending.event for pending in batch.values()])
        except Exception:
            logger.exception(
                "Ledger write of %d events failed (is the database up and migrated, "
                "`bookjobs db upgrade`?); retrying.",
                len(batch),
            )
            self._requeue(batch)
            self._flushes = flushes + self._flushes
            return False
        # Released before `flush()` returns, so a flush also means "their acks are handed over".
        for pending in batch.values():
            for written in pending.written:
                written.mark()
        self._answer(flushes)
        return True

    @staticmethod
    def _answer(flushes: list[threading.Event]) -> None:
        for done in flushes:
            done.set()

    def _add(self, event: Event, due: float, written: list[Written]) -> None:
        message_id = event["message_id"]
        pending = self._pending.get(message_id)
        if pending is None:
            self._pending[message_id] = _Pending(event, due, written)
        else:
            pending.event = merge_events(pending.event, event)
            pending.due = min(pending.due, due)
            pending.written.extend(written)
        self._next_due = min(self._next_due, due)

    def _announce_long_jobs(self, now: float) -> None:
        """Record `running` for every started job that has outlasted `linger`."""
        announced = [key for key, (due, _) in self._running.items() if due <= now]
        for message_id in announced:
            _, running = self._running.pop(message_id)
            try:
                event = running()
            except Exception:  # the flusher must outlive it: every ack of this worker waits on it
                logger.exception("Could not describe running job %s; its final event will.", message_id)
                continue
            self._add(event, now, [])

    def _requeue(self, batch: dict[str, _Pending]) -> None:
        """Put a batch that failed back in front of what arrived while it was being written."""
        newer, self._pending, self._next_due = self._pending, {}, math.inf
        for pending in (*batch.values(), *newer.values()):
            self._add(pending.event, pending.due, pending.written)

    def _write_batch(self, events: list[Event]) -> None:
        """Write `events`; one the database refuses is found and written without its details."""
        try:
            self._write(events)
        except UNSTORABLE as error:
            if len(events) > 1:
                for event in events:
                    self._write_batch([event])
                return
            logger.error("The ledger cannot store job %s as it is: %s", events[0].get("message_id"), error)
            try:
                self._write([without_details(events[0], error)])
            except UNSTORABLE:
                # Not even its identity fits: drop it, so no ack of this worker waits on it forever.
                logger.exception("Dropped a ledger event the database refuses: %.300r", events[0])

    def _write(self, events: list[Event]) -> None:
        """Upsert `events` on the flusher's own connection (kept between batches)."""
        if self._connection is None:
            self._connection, self._dialect = self._connect()
        try:
            cursor = self._connection.cursor()
            if self._dialect == "postgresql":
                write_postgresql(cursor, events, page_size=self._max_batch)
            else:
                cursor.executemany(values_upsert_sql("?"), [row_values(e, sqlite_times=True) for e in events])
            self._connection.commit()
        except BaseException:
            self._discard_connection()
            raise

    def _connect(self) -> tuple[Any, str]:
        engine = self._engine_factory()
        connection = engine.raw_connection()
        if engine.dialect.name == "postgresql":
            # The ledger trades PostgreSQL-crash durability of its last ~200 ms for commits without an
            # fsync wait; a worker crash, the common case, still loses nothing (acks wait for COMMIT).
            # Autocommit: each upsert statement is its own transaction, one round trip instead of two
            # (a round trip is also a wait for the GIL); rows are independent, acks wait for them all.
            connection.driver_connection.autocommit = True
            cursor = connection.cursor()
            cursor.execute("SET synchronous_commit = off")
            prepare_postgresql(cursor)
        return connection, engine.dialect.name

    def _discard_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
            except Exception:
                logger.debug("Discarding the ledger connection failed.", exc_info=True)


#: Columns kept by statements of their own, never by the upsert (which would write NULL into them).
SEPARATE_COLUMNS = frozenset(
    {
        "duplicates_suppressed",
        "cancel_requested_at",
        "cancelled_by",
        "progress_done",
        "progress_total",
        "progress_note",
    }
)
#: Every column the upsert writes, in the order of its VALUES.
COLUMNS = tuple(column.name for column in Job.__table__.columns if column.name not in SEPARATE_COLUMNS)
JSON_COLUMNS = frozenset({"args", "kwargs", "options", "result"})


def write_postgresql(cursor, events: list[Event], *, page_size: int) -> None:
    """Upsert `events` as one JSON document per page, unpacked by jsonb_to_recordset in PostgreSQL
    (the connection must have run `prepare_postgresql`).

    One parameter per statement: psycopg2 quotes one string instead of adapting 21 values a row,
    which made the ledger's client side cost more per job than the whole upsert in PostgreSQL.
    """
    for start in range(0, len(events), page_size):
        cursor.execute(f"EXECUTE {PREPARED_UPSERT}(%s)", (events_json(events[start : start + page_size]),))


#: The upsert, prepared once per connection: PostgreSQL then plans it once, not once a batch.
PREPARED_UPSERT = "bookjobs_ledger_upsert"


def prepare_postgresql(cursor) -> None:
    """Prepare the upsert that `write_postgresql` executes, on the cursor's connection, for the
    ledger as it is there: partitioned by day (migration 0014) or a plain table (before it)."""
    cursor.execute(IS_PARTITIONED)
    conflict = PARTITIONED_KEY if cursor.fetchone() else "message_id"
    cursor.execute(f"PREPARE {PREPARED_UPSERT}(jsonb) AS {recordset_upsert_sql('$1', conflict)}")


#: Errors of one event's content, not of the database: retrying the same batch can never succeed.
UNSTORABLE = (psycopg2.DataError, psycopg2.IntegrityError, ValueError, TypeError, RecursionError)
#: What `without_details` keeps of an event: the row's identity, state and times.
IDENTITY_COLUMNS = (
    "message_id",
    "queue_name",
    "actor_name",
    "status",
    "progress",
    "retries",
    "priority",
    "enqueued_at",
    "eta",
    "started_at",
    "finished_at",
    "duration_ms",
    "worker_id",
    "updated_at",
    "error_type",
)


def without_details(event: Event, error: BaseException) -> Event:
    """`event` without its arguments, result and messages, saying why they are missing."""
    kept = {key: event[key] for key in IDENTITY_COLUMNS if key in event}
    kept.update(args=[], kwargs={}, options={})
    kept["error_message"] = f"The ledger could not store this job's details ({type(error).__name__}): {error}"
    return kept


def events_json(events: list[Event]) -> str:
    """`events` as a JSON array for jsonb_to_recordset; PostgreSQL's text cannot hold NUL, so none is kept."""
    document = json.dumps(
        events, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_json_value
    )
    if NUL_ESCAPE in document:
        document = _NUL.sub(lambda match: match.group(1) + "\\ufffd", document)
    return document


#: How JSON writes a NUL character; PostgreSQL rejects it in text and jsonb alike.
NUL_ESCAPE = "\\u0000"
#: A NUL escape: a backslash preceded by an even number of backslashes (an odd one would be a literal).
_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _json_value(value: Any) -> Any:
    # Times as ISO strings PostgreSQL casts; what JSON cannot hold is kept as its repr, not a failed batch.
    return value.isoformat() if isinstance(value, datetime) else repr(value)


@functools.cache
def recordset_upsert_sql(parameter: str = "$1", conflict: str = "message_id") -> str:
    """The upsert, its rows read from one JSON array `parameter` ($1 when prepared, %s for psycopg2),
    on the ledger's key `conflict` (PARTITIONED_KEY on a partitioned ledger)."""
    dialect = postgresql.dialect()
    table = Job.__table__
    columns = [c for c in table.columns if c.name in COLUMNS]
    record = ", ".join(f"{c.name} {_record_type(c, dialect)}" for c in columns)
    selected = ", ".join(_selected(c) for c in columns)
    rows = f"SELECT {selected} FROM jsonb_to_recordset({parameter}::jsonb) AS r({record})"
    return upsert_sql(rows, conflict=conflict)


def _record_type(column, dialect) -> str:
    # Bounded strings arrive as text and are cut in _selected: an overlong name must not fail a batch.
    return "text" if getattr(column.type, "length", None) else column.type.compile(dialect=dialect)


def _selected(column) -> str:
    if column.name == "updated_at":
        return "COALESCE(updated_at, now())"
    length = getattr(column.type, "length", None)
    return f"left({column.name}, {length})" if length else column.name


@functools.cache
def values_upsert_sql(placeholder: str) -> str:
    """The upsert of one row of `placeholder`s (SQLite's executemany)."""
    return upsert_sql("VALUES (" + ", ".join([placeholder] * len(COLUMNS)) + ")")


#: The ledger's key on PostgreSQL, where it is partitioned by day (migration 0014): a message keeps
#: its enqueue time through every event, so this pair names one row as the message id alone does.
PARTITIONED_KEY = "message_id, enqueued_at"


def upsert_sql(rows: str, *, conflict: str = "message_id") -> str:
    """INSERT … `rows` ON CONFLICT (`conflict`), moving a row only forward; an event's NULL never
    erases a known value."""
    table = Job.__tablename__
    updates = [f"{c} = excluded.{c}" for c in STATE_COLUMNS]
    updates += [f"{c} = COALESCE(excluded.{c}, {table}.{c})" for c in KEPT_COLUMNS]
    return (
        f"INSERT INTO {table} ({', '.join(COLUMNS)}) {rows} "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {', '.join(updates)} "
        f"WHERE excluded.progress >= {table}.progress AND {table}.status <> 'cancelled'"
    )


def row_values(event: Event, *, sqlite_times: bool) -> tuple[Any, ...]:
    """The event as a tuple in COLUMNS order, JSON encoded and with every missing column NULL."""
    row = []
    for column in COLUMNS:
        value = event.get(column)
        if column == "updated_at" and value is None:
            value = utcnow()
        if column in JSON_COLUMNS:
            # default=repr: what JSON cannot hold is kept as its repr rather than failing the batch.
            value = None if value is None else json.dumps(value, ensure_ascii=False, default=repr)
        elif sqlite_times and isinstance(value, datetime):
            # The format SQLAlchemy's SQLite DateTime reads back; UTCDateTime restores the zone.
            value = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        row.append(value)
    return tuple(row)
