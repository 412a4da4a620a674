"""Read the job ledger: recent failures and live workers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from domain.models.base import utcnow
from domain.models.jobs import FINAL_STATUSES, Job, JobStatus, WorkerHeartbeat

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


def find_job(session: Session, message_id: str) -> Job | None:
    """The ledger row of `message_id`; the newest if a sender reused the id with another enqueue
    time (on PostgreSQL the ledger's key is the id and the enqueue time, see ledger_partitions)."""
    statement = select(Job).where(Job.message_id == message_id).order_by(Job.updated_at.desc()).limit(1)
    return session.scalars(statement).first()


def job_state(session: Session, message_id: str) -> tuple[str, str | None, WorkerHeartbeat | None] | None:
    """(status, worker_id, that worker's heartbeat row) of a ledger row, or None if there is none."""
    # A final row first: a sender that reused the id with another enqueue time made a second row.
    final_first = case((Job.status.in_([s.value for s in FINAL_STATUSES]), 0), else_=1)
    statement = (
        select(Job.status, Job.worker_id)
        .where(Job.message_id == message_id)
        .order_by(final_first, Job.updated_at.desc())
        .limit(1)
    )
    row = session.execute(statement).first()
    if row is None:
        return None
    heartbeat = session.get(WorkerHeartbeat, row.worker_id) if row.worker_id else None
    return row.status, row.worker_id, heartbeat


def count_suppressed_duplicate(session: Session, message_id: str) -> None:
    """Count one delivery of `message_id` that was acked without running, since its job had finished."""
    session.execute(
        update(Job)
        .where(Job.message_id == message_id)
        .values(duplicates_suppressed=Job.duplicates_suppressed + 1)
    )


def suppressed_duplicates(session: Session) -> dict[str, int]:
    """Per actor, how many duplicate deliveries the workers acked without running (ledger rows kept)."""
    statement = (
        select(Job.actor_name, func.sum(Job.duplicates_suppressed))
        .where(Job.duplicates_suppressed > 0)
        .group_by(Job.actor_name)
    )
    return {actor: int(count) for actor, count in session.execute(statement)}


def prune_workers(session: Session, *, silent_for: timedelta) -> int:
    """Delete the heartbeat rows of workers silent for longer than `silent_for` (gone for good)."""
    result = session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.last_seen < utcnow() - silent_for))
    return result.rowcount or 0


def set_progress(
    session: Session, message_id: str, *, done: int, total: int, note: str | None = None
) -> bool:
    """Store how far a job has come; `done` never goes back (fan-out jobs report out of order).

    False when the ledger has no row for `message_id` (yet)."""
    if done < 0 or total < 0:
        raise ValueError(f"Progress must not be negative: {done} of {total}.")
    kept = func.coalesce(Job.progress_done, 0)
    result = session.execute(
        update(Job)
        .where(Job.message_id == message_id)
        .values(
            progress_done=case((kept > done, kept), else_=done),
            progress_total=total,
            progress_note=note[:200] if note else None,
        )
    )
    return bool(result.rowcount)
