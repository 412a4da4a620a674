"""Read the job ledger: recent failures and live workers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.models.base import utcnow
from domain.models.jobs import Job, JobStatus, WorkerHeartbeat

#: A worker silent for this many heartbeat intervals is shown as stale.
STALE_AFTER_BEATS = 3


def recent_failures(session: Session, *, limit: int = 10) -> list[Job]:
    """The last jobs that ended dead, newest first."""
    statement = select(Job).where(Job.status == JobStatus.DEAD).order_by(Job.updated_at.desc()).limit(limit)
    return list(session.scalars(statement))


def workers(session: Session) -> list[WorkerHeartbeat]:
    """Every worker that has a heartbeat row, most recently seen first."""
    return list(session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.last_seen.desc())))


def is_stale(worker: WorkerHeartbeat, *, interval_seconds: float) -> bool:
    """True when `worker` has missed several heartbeats."""
    return utcnow() - worker.last_seen > timedelta(seconds=interval_seconds * STALE_AFTER_BEATS)
