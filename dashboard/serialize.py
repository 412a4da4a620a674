"""Ledger rows as JSON-able dicts for the API and the templates."""

from __future__ import annotations

from sqlalchemy.orm import Session

from domain import ledger
from domain.models.jobs import Job

SUMMARY = (
    "message_id",
    "queue_name",
    "actor_name",
    "status",
    "retries",
    "priority",
    "worker_id",
    "error_type",
)
TIMES = ("enqueued_at", "eta", "started_at", "finished_at", "updated_at")


def job_dict(job: Job, *, full: bool = False) -> dict:
    """A job's summary (for lists), or everything the ledger knows (`full`)."""
    data = {name: getattr(job, name) for name in SUMMARY}
    data.update({name: _iso(getattr(job, name)) for name in TIMES})
    data.update(args=job.args, kwargs=job.kwargs, duration_ms=job.duration_ms, error=job.error_message)
    data["progress"] = progress_dict(job)
    if full:
        data.update(
            options=job.options,
            result=job.result,
            traceback=job.traceback,
            requeued_from=(job.options or {}).get("requeued_from"),
            requeued_as=(job.options or {}).get("requeued_as"),
            cancel_requested_at=_iso(job.cancel_requested_at),
            cancelled_by=job.cancelled_by,
        )
    return data


def progress_dict(job: Job) -> dict | None:
    """What the job said of its progress (`broker.jobs.progress`), or None if it never did."""
    if job.progress_total is None:
        return None
    done, total = job.progress_done or 0, job.progress_total
    percent = round(100 * min(done, total) / total, 1) if total else 100.0
    return {"done": done, "total": total, "note": job.progress_note, "percent": percent}


def worker_dicts(session: Session, heartbeat_interval: float) -> list[dict]:
    return [
        {
            "worker_id": w.worker_id,
            "hostname": w.hostname,
            "pid": w.pid,
            "queues": w.queues,
            "started_at": _iso(w.started_at),
            "last_seen": _iso(w.last_seen),
            "stale": ledger.is_stale(w, interval_seconds=heartbeat_interval),
            "in_flight": w.in_flight,
            "processed": w.processed,
            "failed": w.failed,
        }
        for w in ledger.workers(session)
    ]


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None
