"""What the workers are doing, from the ledger and their heartbeats: `bookjobs inspect` and the API.

Celery's `inspect active / reserved / scheduled / stats`, answered without asking the workers: the
ledger knows which jobs run and which wait for their ETA; each worker process's heartbeat (every 5 s)
says what it holds unstarted, how much memory it uses and how many jobs it finished.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import ledger
from domain.models.base import utcnow
from domain.models.jobs import Job, JobStatus

VIEWS = ("active", "reserved", "scheduled", "stats")
#: `scheduled` lists at most this many jobs, the soonest first.
SCHEDULED_LIMIT = 1000


def active(session: Session, *, now: datetime | None = None) -> dict[str, list[dict]]:
    """Running jobs by worker, the longest-running first, with how long each has run."""
    now = now or utcnow()
    rows = session.execute(
        select(Job.message_id, Job.actor_name, Job.queue_name, Job.worker_id, Job.started_at, Job.retries)
        .where(Job.status == JobStatus.RUNNING.value)
        .order_by(Job.worker_id, Job.started_at)
    ).all()
    by_worker: dict[str, list[dict]] = {}
    for row in rows:
        by_worker.setdefault(row.worker_id or "unknown", []).append(
            {
                "message_id": row.message_id,
                "actor_name": row.actor_name,
                "queue_name": row.queue_name,
                "started_at": row.started_at.isoformat() if row.started_at else None,
                "runtime_seconds": round((now - row.started_at).total_seconds(), 3)
                if row.started_at
                else None,
                "retries": row.retries,
            }
        )
    return by_worker


def reserved(session: Session) -> dict[str, list[dict]]:
    """Messages each live worker process holds and has not started (its last heartbeat's list)."""
    return {w.worker_id: list(w.reserved or []) for w in ledger.workers(session)}


def scheduled(session: Session, *, limit: int = SCHEDULED_LIMIT) -> list[dict]:
    """Delayed jobs and jobs waiting for a retry, with their ETA, the soonest first."""
    rows = session.execute(
        select(Job.message_id, Job.actor_name, Job.queue_name, Job.status, Job.eta, Job.retries)
        .where(Job.status.in_([JobStatus.DELAYED.value, JobStatus.RETRYING.value]))
        .order_by(Job.eta)
        .limit(limit)
    ).all()
    return [
        {
            "message_id": row.message_id,
            "actor_name": row.actor_name,
            "queue_name": row.queue_name,
            "status": row.status,
            "eta": row.eta.isoformat() if row.eta else None,
            "retries": row.retries,
        }
        for row in rows
    ]


def stats(session: Session, *, heartbeat_interval: float, now: datetime | None = None) -> list[dict]:
    """Per worker process: processed, failed, in flight, held unstarted, memory, uptime, liveness."""
    now = now or utcnow()
    return [
        {
            "worker_id": w.worker_id,
            "hostname": w.hostname,
            "pid": w.pid,
            "queues": w.queues,
            "processed": w.processed,
            "failed": w.failed,
            "in_flight": w.in_flight,
            "reserved": len(w.reserved or []),
            "rss_mb": w.rss_mb,
            "uptime_seconds": round((now - w.started_at).total_seconds(), 1),
            "last_seen": w.last_seen.isoformat(),
            "stale": ledger.is_stale(w, interval_seconds=heartbeat_interval),
        }
        for w in ledger.workers(session)
    ]


def report(session: Session, view: str, *, heartbeat_interval: float) -> dict | list:
    """The document of one view (`bookjobs inspect VIEW --json`, `GET /api/workers/VIEW`)."""
    if view == "active":
        return active(session)
    if view == "reserved":
        return reserved(session)
    if view == "scheduled":
        return scheduled(session)
    if view == "stats":
        return stats(session, heartbeat_interval=heartbeat_interval)
    raise ValueError(f"No inspect view {view!r}; one of {', '.join(VIEWS)}.")
