"""Live exam sessions, under the original's keys: `exam:attempt:<id>`.

While an attempt runs, the exam service keeps its session here (who, which exam, when it ends, and
whatever the app stores with it). Two stores, chosen by `EXAM_SESSION_URL`:

- **Redis** (`redis://…`, as the original): one string key per attempt holding JSON, with a TTL a
  little past the attempt's end, so Redis drops it by itself;
- **PostgreSQL** (unset): the `exam_sessions` table, one row per attempt.

`auto_finish_exam` closes an attempt's session; `cleanup_old_exam_sessions` (hourly) removes the
stale ones — past their end plus the buffer — with SCAN in Redis and one DELETE in PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from domain.db import SessionScope
from domain.models.base import utcnow
from domain.models.exams import ExamSessionRow

KEY_PREFIX = "exam:attempt:"
#: A session lives this long past its attempt's end (the auto-finish may come a little late).
STALE_AFTER = timedelta(minutes=10)
SCAN_BATCH = 500


def key_of(attempt_id: int) -> str:
    return f"{KEY_PREFIX}{attempt_id}"


class SessionStore(Protocol):
    def open(self, attempt_id: int, *, ends_at: datetime, payload: dict[str, Any]) -> None: ...

    def get(self, attempt_id: int) -> dict[str, Any] | None: ...

    def close(self, attempt_id: int) -> bool: ...

    def remove_stale(self, *, now: datetime | None = None) -> int: ...


def _document(attempt_id: int, ends_at: datetime, payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "attempt_id": attempt_id, "ends_at": ends_at.isoformat()}


class RedisSessions:
    """Sessions as Redis strings of JSON, each expiring `STALE_AFTER` past its attempt's end."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)

    def open(self, attempt_id: int, *, ends_at: datetime, payload: dict[str, Any]) -> None:
        ttl = max(int((ends_at + STALE_AFTER - utcnow()).total_seconds()), 1)
        self.client.set(key_of(attempt_id), json.dumps(_document(attempt_id, ends_at, payload)), ex=ttl)

    def get(self, attempt_id: int) -> dict[str, Any] | None:
        found = self.client.get(key_of(attempt_id))
        return json.loads(found) if found is not None else None

    def close(self, attempt_id: int) -> bool:
        return bool(self.client.delete(key_of(attempt_id)))

    def remove_stale(self, *, now: datetime | None = None) -> int:
        """SCAN `exam:attempt:*` and delete the sessions past their end plus the buffer, and keys that
        are not sessions of this format (no TTL, unreadable)."""
        cutoff = (now or utcnow()) - STALE_AFTER
        removed = 0
        batch: list[bytes] = []
        for key in self.client.scan_iter(match=f"{KEY_PREFIX}*", count=SCAN_BATCH):
            batch.append(key)
            if len(batch) >= SCAN_BATCH:
                removed += self._remove_if_stale(batch, cutoff)
                batch = []
        return removed + (self._remove_if_stale(batch, cutoff) if batch else 0)

    def _remove_if_stale(self, keys: list[bytes], cutoff: datetime) -> int:
        stale = [
            key for key, value in zip(keys, self.client.mget(keys), strict=True) if _is_stale(value, cutoff)
        ]
        return self.client.delete(*stale) if stale else 0


def _is_stale(value: bytes | None, cutoff: datetime) -> bool:
    if value is None:
        return False  # expired between SCAN and GET
    try:
        return datetime.fromisoformat(json.loads(value)["ends_at"]) < cutoff
    except (ValueError, KeyError, TypeError):
        return True


class SqlSessions:
    """Sessions as rows of `exam_sessions` (PostgreSQL, or SQLite when embedded)."""

    def __init__(self, scope: SessionScope) -> None:
        self.scope = scope

    def open(self, attempt_id: int, *, ends_at: datetime, payload: dict[str, Any]) -> None:
        with self.scope() as session:
            row = session.get(ExamSessionRow, attempt_id) or ExamSessionRow(attempt_id=attempt_id)
            row.ends_at, row.payload = ends_at, _document(attempt_id, ends_at, payload)
            session.add(row)

    def get(self, attempt_id: int) -> dict[str, Any] | None:
        with self.scope() as session:
            return session.scalar(
                select(ExamSessionRow.payload).where(ExamSessionRow.attempt_id == attempt_id)
            )

    def close(self, attempt_id: int) -> bool:
        with self.scope() as session:
            return _delete(session, ExamSessionRow.attempt_id == attempt_id) > 0

    def remove_stale(self, *, now: datetime | None = None) -> int:
        with self.scope() as session:
            return _delete(session, ExamSessionRow.ends_at < (now or utcnow()) - STALE_AFTER)


def _delete(session: Session, condition) -> int:
    return session.execute(delete(ExamSessionRow).where(condition)).rowcount


def store_for(url: str | None, scope: SessionScope) -> SessionStore:
    """Redis for a `redis://` URL (`EXAM_SESSION_URL`), else the database."""
    return RedisSessions(url) if url else SqlSessions(scope)
