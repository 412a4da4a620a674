"""Reading sessions: closing abandoned ones in one statement, and the admin statistics."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, and_, case, func, select, update
from sqlalchemy.orm import Session

from domain.errors import InvalidArgument
from domain.models.base import utcnow
from domain.models.reading import ReadingSession
from domain.sql import minutes_between

DEFAULT_ABANDONED_HOURS = 2


@dataclass(frozen=True)
class CloseResult:
    closed_count: int
    execution_time_ms: float
    deadline: str

    def as_dict(self) -> dict:
        return asdict(self)


def close_abandoned(
    session: Session, *, hours: float = DEFAULT_ABANDONED_HOURS, now: datetime | None = None
) -> CloseResult:
    """Close every active session started more than `hours` ago, in one UPDATE (no loop over rows).

    Closed sessions end now, get their duration in minutes, and keep their end position; running
    it again closes nothing more.
    """
    now = now or utcnow()
    deadline = now - timedelta(hours=hours)
    started = time.perf_counter()
    result = session.execute(
        update(ReadingSession)
        .where(ReadingSession.is_active.is_(True), ReadingSession.started_at < deadline)
        .values(
            is_active=False,
            ended_at=now,
            duration_minutes=minutes_between(session, ReadingSession.started_at, now).cast(Integer),
            end_position=func.coalesce(ReadingSession.end_position, ReadingSession.start_position),
        )
        .execution_options(synchronize_session=False)
    )
    elapsed = (time.perf_counter() - started) * 1000
    return CloseResult(result.rowcount, round(elapsed, 2), deadline.isoformat())


def cleanup_statistics(session: Session, *, hours: int = 24, now: datetime | None = None) -> dict:
    """What the cleanup did over the last `hours` (1–168), as the original admin endpoint returned it."""
    if not isinstance(hours, int) or not 1 <= hours <= 168:
        raise InvalidArgument(f"hours must be a whole number from 1 to 168, not {hours!r}.")
    now = now or utcnow()
    since = now - timedelta(hours=hours)
    closed = and_(ReadingSession.is_active.is_(False), ReadingSession.ended_at >= since)
    total_closed, avg_duration, no_progress = session.execute(
        select(
            func.count().filter(closed),
            func.avg(case((closed, ReadingSession.duration_minutes))),
            func.count().filter(
                closed, func.coalesce(ReadingSession.end_position, 0) <= ReadingSession.start_position
            ),
        )
    ).one()
    total_active = session.scalar(select(func.count()).where(ReadingSession.is_active.is_(True)))
    return {
        "total_closed": total_closed,
        "total_active": total_active,
        "avg_duration_minutes": round(float(avg_duration or 0), 2),
        "no_progress_count": no_progress,
        "period_hours": hours,
        "timestamp": now.isoformat(),
    }
