"""The JSON API: queues, workers, schedules, jobs (list, read, enqueue, requeue) and the admin endpoints."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from broker import sending
from broker.jobs import flush_ledger
from dashboard import actions, queries
from dashboard.app import Dashboard, dashboard_of
from dashboard.queues import queue_counts
from dashboard.security import require_json
from dashboard.serialize import job_dict, worker_dicts
from domain import actor_stats, cancels, db, inspection
from domain import reading as reading_service
from domain.models.base import utcnow
from periodic.status import schedule_rows


def _authorized(request: Request) -> Dashboard:
    dashboard = dashboard_of(request)
    dashboard.guard.require_api(request)
    return dashboard


Authorized = Annotated[Dashboard, Depends(_authorized)]
router = APIRouter(prefix="/api", tags=["api"])


class EnqueueRequest(BaseModel):
    actor: str = Field(description="Actor name, e.g. `health_check`.", max_length=200)
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    delay: int | None = Field(default=None, ge=0, le=366 * 24 * 3600 * 1000, description="Milliseconds.")
    priority: int | None = Field(default=None, ge=0, le=10)


class Enqueued(BaseModel):
    message_id: str
    actor: str
    queue: str
    status: str


@router.get("/queues")
def list_queues(dashboard: Authorized) -> list[dict]:
    """Every queue with ready / delayed / dead messages and consumers (null where the broker cannot tell)."""
    return [q.as_dict() for q in queue_counts(dashboard.broker, dashboard.settings.broker_url)]


@router.get("/workers")
def list_workers(dashboard: Authorized) -> list[dict]:
    """Worker processes from their heartbeats; `stale` ones have missed three."""
    with db.session_scope() as session:
        return worker_dicts(session, dashboard.settings.heartbeat_interval)


@router.get("/schedules")
def list_schedules(dashboard: Authorized) -> list[dict]:
    """The cron table with each row's next run and its last run's status."""
    with db.session_scope() as session:
        return schedule_rows(session, declared=set(dashboard.broker.actors), now=utcnow())


@router.get("/jobs")
def list_jobs(
    dashboard: Authorized,
    queue: Annotated[str | None, Query(max_length=200)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    text: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=queries.MAX_PER_PAGE)] = 50,
    id_prefix: Annotated[str | None, Query(max_length=64, description="Start of the job id.")] = None,
    since: Annotated[str | None, Query(max_length=40, description="Enqueued at or after (ISO, UTC).")] = None,
    until: Annotated[str | None, Query(max_length=40, description="Enqueued before (ISO, UTC).")] = None,
) -> dict:
    """Jobs from the ledger, newest first, filtered by queue, actor, status, id prefix, time range and
    text in arguments or error (a trigram index keeps it fast on PostgreSQL)."""
    where = queries.JobFilter(
        queue,
        None,
        actor,
        status,
        text,
        page,
        per_page,
        id_prefix=id_prefix,
        since=queries.parse_time(since, "since"),
        until=queries.parse_time(until, "until"),
    )
    with db.session_scope() as session:
        listed = queries.list_jobs(session, where)
        return {"jobs": [job_dict(j) for j in listed.jobs], "page": page, "has_next": listed.has_next}


@router.get("/jobs/{message_id}")
def read_job(dashboard: Authorized, message_id: str) -> dict:
    """One job: status, arguments (secrets redacted), times, worker, retries, result or error."""
    with db.session_scope() as session:
        return job_dict(queries.get_job(session, message_id), full=True)


@router.post("/jobs", status_code=201, dependencies=[Depends(require_json)])
def enqueue(dashboard: Authorized, body: EnqueueRequest) -> Enqueued:
    """Enqueue any actor by name; its arguments are checked against its signature (422 if they do not fit)."""
    message = sending.send_by_name(
        dashboard.broker, body.actor, body.args, body.kwargs, delay_ms=body.delay, priority=body.priority
    )
    flush_ledger(dashboard.broker)  # a GET of the new job right after this finds it
    status = "delayed" if body.delay else "enqueued"
    return Enqueued(message_id=message.message_id, actor=body.actor, queue=message.queue_name, status=status)


@router.post("/jobs/{message_id}/requeue", status_code=201)
def requeue(dashboard: Authorized, message_id: str) -> dict:
    """Send a dead job again as a new message with its retries reset; the two are linked in the ledger."""
    with db.session_scope() as session:
        new_id = actions.requeue(session, dashboard.broker, message_id)
    return {"message_id": new_id, "requeued_from": message_id, "status": "enqueued"}


Window = Annotated[Literal["1h", "24h", "7d"], Query(description="How far back to look.")]


@router.get("/actors")
def list_actors(dashboard: Authorized, window: Window = "24h") -> list[dict]:
    """Per actor over the window: runs, done, dead, retried, cancelled, failure rate, p50/p95/max ms
    (`approximate` when hourly rollups contributed)."""
    with db.session_scope() as session:
        return [r.as_dict() for r in actor_stats.report(session, window=window)]


@router.get("/actors/{name}")
def read_actor(dashboard: Authorized, name: str, window: Window = "24h") -> dict:
    """One actor's figures, its throughput per minute over the window and its most common errors."""
    if name not in dashboard.broker.actors:
        raise HTTPException(404, f"Unknown actor {name!r}.")
    with db.session_scope() as session:
        reports = actor_stats.report(session, window=window, actor=name)
    if not reports:
        return {"actor": name, "window": window, "runs": 0, "throughput_per_minute": [], "top_errors": []}
    return reports[0].as_dict(detail=True)


@router.get("/workers/{view}")
def inspect_workers(dashboard: Authorized, view: Literal["active", "reserved", "scheduled", "stats"]) -> Any:
    """`bookjobs inspect VIEW --json`: running jobs by worker (active), held unstarted (reserved),
    delayed with their ETA (scheduled), per-process figures (stats)."""
    with db.session_scope() as session:
        return inspection.report(session, view, heartbeat_interval=dashboard.settings.heartbeat_interval)


@router.post("/jobs/{message_id}/cancel")
def cancel(dashboard: Authorized, message_id: str) -> dict:
    """Cancel a waiting job (at once) or a running one (its worker aborts it within about a second)."""
    flush_ledger(dashboard.broker)  # a job sent a moment ago has its row
    with db.session_scope() as session:
        [outcome] = cancels.request_cancel(session, message_ids=[message_id], by="dashboard API")
    if outcome.outcome == "not_found":
        raise HTTPException(404, f"No job {message_id!r} in the ledger.")
    if outcome.outcome.startswith("already"):
        raise HTTPException(
            409, f"Job {message_id!r} is {outcome.outcome.removeprefix('already ')}: nothing to cancel."
        )
    return outcome.as_dict()


def _admin(request: Request) -> Dashboard:
    dashboard = _authorized(request)
    client = request.client.host if request.client else "unknown"
    wait = dashboard.admin_limiter.allow(client)
    if wait:
        raise HTTPException(
            429,
            f"At most 5 admin requests a minute; try again in {wait:.0f} s.",
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    return dashboard


Admin = Annotated[Dashboard, Depends(_admin)]


@router.get("/admin/reading-sessions/cleanup-stats", tags=["admin"])
def cleanup_stats(dashboard: Admin, hours: Annotated[int, Query(ge=1, le=168)] = 24) -> dict:
    """Sessions closed and still active over the last `hours` (1–168)."""
    with db.session_scope() as session:
        return reading_service.cleanup_statistics(session, hours=hours)


@router.post("/admin/reading-sessions/cleanup", tags=["admin"])
def cleanup_now(dashboard: Admin) -> dict:
    """Close abandoned reading sessions now, in this request: the original's flat answer, with `error`
    set (and nothing closed) instead of a 500 when it fails."""
    from actors.reading import close_abandoned_sessions

    started = time.perf_counter()
    try:
        return {**close_abandoned_sessions.fn(), "error": None}
    except Exception as error:
        return {
            "closed_count": 0,
            "execution_time_ms": round((time.perf_counter() - started) * 1000, 2),
            "deadline": None,
            "error": f"{type(error).__name__}: {error}",
        }


@router.post("/admin/reading-sessions/cleanup-async", status_code=202, tags=["admin"])
def cleanup_async(dashboard: Admin) -> dict:
    """Enqueue `close_abandoned_sessions` (the original's answer: `task_id`, `PENDING`); poll
    `/api/jobs/{task_id}` for the outcome."""
    message = sending.send_by_name(dashboard.broker, "close_abandoned_sessions")
    return {
        "task_id": message.message_id,
        "status": "PENDING",
        "message": f"Cleanup task started with ID: {message.message_id}. GET /api/jobs/{message.message_id}"
        " tells how it went.",
    }
