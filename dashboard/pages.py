"""HTML pages (dramatiq-dashboard's URLs) and their POST actions, each CSRF-checked and confirmed."""

from __future__ import annotations

import math
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from dashboard import actions, queries, rendering
from dashboard.app import Dashboard, dashboard_of
from dashboard.chart import backlog_chart, finished_chart, throughput_chart
from dashboard.queues import purge, queue_counts, queue_names
from dashboard.security import SESSION_COOKIE, SESSION_SECONDS, check_csrf, csrf_token
from dashboard.serialize import worker_dicts
from domain import actor_stats, cancels, db
from domain.errors import NotFound
from domain.models.base import utcnow
from periodic.sampler import SAMPLE_SECONDS
from periodic.schedule import load_table
from periodic.status import schedule_rows

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str | None, Form()]
Confirm = Annotated[str | None, Form()]


def _page_access(request: Request) -> Dashboard:
    dashboard = dashboard_of(request)
    dashboard.guard.require_page(request)
    return dashboard


def _action_access(request: Request, csrf_token: Csrf = None, confirm: Confirm = None) -> Dashboard:
    """A POST from a page: logged in, the CSRF token of this browser, and the "I am sure" box ticked."""
    dashboard = _page_access(request)
    check_csrf(request, csrf_token)
    if confirm != "yes":
        raise HTTPException(400, "Tick the confirmation box to do this.")
    return dashboard


PageAccess = Annotated[Dashboard, Depends(_page_access)]
ActionAccess = Annotated[Dashboard, Depends(_action_access)]


def render(request: Request, template: str, status: int = 200, **context) -> Response:
    dashboard = dashboard_of(request)
    context.update(
        request=request,
        root=request.scope.get("root_path", ""),
        csrf=csrf_token(request),
        guard=dashboard.guard,
        notice=request.query_params.get("notice"),
    )
    if rendering.wants_live(request.headers):
        return rendering.live_regions(dashboard.templates.get_template(template), context)
    return dashboard.templates.TemplateResponse(request, template, context, status_code=status)


def back(request: Request, path: str, notice: str = "") -> RedirectResponse:
    root = request.scope.get("root_path", "")
    suffix = f"?notice={quote(notice)}" if notice else ""
    return RedirectResponse(f"{root}{path}{suffix}", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=next if next.startswith("/") else "/")


@router.post("/login")
def login(request: Request, token: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> Response:
    guard, throttle = dashboard_of(request).guard, dashboard_of(request).login_throttle
    client = request.client.host if request.client else "unknown"
    wait = throttle.wait(client)
    if wait > 0:
        raise HTTPException(
            429,
            f"Too many wrong tokens; try again in {math.ceil(wait)} s.",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    if not guard.check_token(token):
        throttle.failed(client)
        return render(request, "login.html", status=401, next=next, error="Wrong token.")
    throttle.succeeded(client)
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(f"{request.scope.get('root_path', '')}{target}", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        guard.session_cookie(),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Csrf = None) -> Response:
    check_csrf(request, csrf_token)
    response = back(request, "/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def overview(request: Request, dashboard: PageAccess) -> Response:
    counts = queue_counts(dashboard.broker, dashboard.settings.broker_url)
    with db.session_scope() as session:
        workers = worker_dicts(session, dashboard.settings.heartbeat_interval)
        schedules = schedule_rows(session, declared=set(dashboard.broker.actors), now=utcnow())
        failures = queries.recent_failures(session, limit=10)
        chart = queries.finished_per_minute(session)
        backlog = queries.backlog(session, [q.name for q in counts], minutes=60)
        return render(
            request,
            "overview.html",
            queues=counts,
            workers=workers,
            schedules=schedules,
            failures=failures,
            chart=finished_chart(chart["since"], chart["minutes"], chart["series"]),
            finished=chart["series"],
            backlog=backlog_chart(backlog.since, 60, backlog.lines) if backlog.lines else None,
            oldest=backlog.oldest_ages,
            sample_seconds=int(SAMPLE_SECONDS),
            live=True,
        )


@router.get("/queues/{name}")
def queue_default(request: Request, name: str, dashboard: PageAccess) -> Response:
    return back(request, f"/queues/{quote(name)}/standard")


@router.get("/queues/{name}/{tab}")
def queue_page(
    request: Request,
    name: str,
    tab: str,
    dashboard: PageAccess,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    text: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    _known_queue(dashboard, name)
    where = queries.JobFilter(name, tab, actor or None, status or None, text or None, page)
    actors = sorted(a.actor_name for a in dashboard.broker.actors.values() if a.queue_name == name)
    with db.session_scope() as session:
        listed = queries.list_jobs(session, where)
        return render(
            request,
            "queue.html",
            queue=name,
            tab=tab,
            tabs=list(queries.TABS),
            where=where,
            jobs=listed.jobs,
            has_next=listed.has_next,
            actors=actors,
            statuses=queries.TABS[tab],
            live=where.page == 1,
        )


@router.get("/queues/{name}/{tab}/{message_id}")
def job_page(request: Request, name: str, tab: str, message_id: str, dashboard: PageAccess) -> Response:
    with db.session_scope() as session:
        job = queries.get_job(session, message_id)
        return render(
            request,
            "job.html",
            queue=name,
            tab=tab,
            job=job,
            timeline=queries.timeline(job),
            options=job.options,
            live=True,
        )


@router.get("/jobs")
def search_page(
    request: Request,
    dashboard: PageAccess,
    id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    text: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[str | None, Query(max_length=32)] = None,
    until: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Every queue's jobs by id prefix, actor, status, time range (enqueued, UTC) and text."""
    where = queries.JobFilter(
        actor=actor or None,
        status=status or None,
        text=text or None,
        page=page,
        id_prefix=id or None,
        since=queries.parse_time(since, "since"),
        until=queries.parse_time(until, "until"),
    )
    searched = any((where.id_prefix, where.actor, where.status, where.text, where.since, where.until))
    with db.session_scope() as session:
        listed = queries.list_jobs(session, where) if searched else queries.JobPage([], False)
        return render(
            request,
            "search.html",
            where=where,
            searched=searched,
            jobs=listed.jobs,
            has_next=listed.has_next,
            actors=sorted(dashboard.broker.actors),
            statuses=queries.STATUSES,
            live=searched and page == 1,
        )


@router.get("/actors")
def actors_page(request: Request, dashboard: PageAccess, window: str = "24h") -> Response:
    """Per actor over the window: runs, outcomes, failure rate, duration percentiles."""
    with db.session_scope() as session:
        reports = actor_stats.report(session, window=window)
    idle = sorted(set(dashboard.broker.actors) - {r.actor for r in reports})
    return render(
        request, "actors.html", reports=reports, idle=idle, window=window, windows=list(actor_stats.WINDOWS),
        live=True,
    )


@router.get("/actors/{name}")
def actor_page(request: Request, name: str, dashboard: PageAccess, window: str = "24h") -> Response:
    """One actor: its figures, throughput per minute over the window, its most common errors."""
    if name not in dashboard.broker.actors:
        raise NotFound(f"Unknown actor {name!r}.")
    with db.session_scope() as session:
        reports = actor_stats.report(session, window=window, actor=name)
    report = reports[0] if reports else None
    queue = dashboard.broker.get_actor(name).queue_name
    chart = throughput_chart(report) if report else None
    return render(
        request,
        "actor.html",
        name=name,
        queue=queue,
        report=report,
        figures=report.as_dict(detail=True) if report else None,
        chart=chart,
        window=window,
        windows=list(actor_stats.WINDOWS),
        live=True,
    )


@router.post("/queues/{name}/{tab}/{message_id}/requeue")
def requeue_job(request: Request, name: str, tab: str, message_id: str, dashboard: ActionAccess) -> Response:
    with db.session_scope() as session:
        new_id = actions.requeue(session, dashboard.broker, message_id)
    return back(request, f"/queues/{quote(name)}/standard/{new_id}", f"Requeued {message_id} as {new_id}.")


@router.post("/queues/{name}/{tab}/{message_id}/cancel")
def cancel_job(request: Request, name: str, tab: str, message_id: str, dashboard: ActionAccess) -> Response:
    with db.session_scope() as session:
        [outcome] = cancels.request_cancel(session, message_ids=[message_id], by="dashboard")
    said = {"cancelled": "Cancelled", "cancelling": "Cancelling (its worker stops it)"}.get(
        outcome.outcome, f"Not cancelled ({outcome.outcome})"
    )
    return back(request, f"/queues/{quote(name)}/{quote(tab)}/{message_id}", f"{said}: job {message_id}.")


@router.post("/queues/{name}/{tab}/{message_id}/delete")
def delete_job(request: Request, name: str, tab: str, message_id: str, dashboard: ActionAccess) -> Response:
    with db.session_scope() as session:
        actions.delete_job(session, message_id)
    return back(request, f"/queues/{quote(name)}/{quote(tab)}", f"Deleted job {message_id}.")


@router.post("/queues/{name}/requeue-all")
def requeue_all(
    request: Request,
    name: str,
    dashboard: ActionAccess,
    actor: Annotated[str | None, Form(max_length=200)] = None,
    text: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    _known_queue(dashboard, name)
    where = queries.JobFilter(name, "failed", actor or None, None, text or None)
    with db.session_scope() as session:
        outcome = actions.requeue_all(session, dashboard.broker, where)
    refused = f", {len(outcome['refused'])} refused (secret arguments)" if outcome["refused"] else ""
    return back(
        request, f"/queues/{quote(name)}/failed", f"Requeued {outcome['requeued']} dead jobs{refused}."
    )


@router.post("/queues/{name}/{tab}/purge")
def purge_queue(request: Request, name: str, tab: str, dashboard: ActionAccess) -> Response:
    _known_queue(dashboard, name)
    if tab not in queries.TABS:
        raise NotFound(f"Unknown tab {tab!r}.")
    removed = purge(dashboard.broker, dashboard.settings.broker_url, name, tab=tab)
    return back(request, f"/queues/{quote(name)}/{tab}", f"Purged {removed} messages from {name} ({tab}).")


@router.post("/schedules/{actor}/run")
def run_periodic(request: Request, actor: str, dashboard: ActionAccess) -> Response:
    periodic = {row.actor_name for row in load_table()} & set(dashboard.broker.actors)
    message_id = actions.run_now(dashboard.broker, actor, periodic)
    queue = dashboard.broker.get_actor(actor).queue_name
    return back(request, f"/queues/{quote(queue)}/standard/{message_id}", f"Sent {actor} now.")


def _known_queue(dashboard: Dashboard, name: str) -> None:
    known = queue_names(dashboard.broker)
    if name not in known:
        raise NotFound(f"Unknown queue {name!r}; queues: {', '.join(known)}.")
