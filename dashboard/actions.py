"""What the dashboard changes: requeue dead jobs (one or many), delete a finished job, run a periodic job."""

from __future__ import annotations

from dataclasses import replace

import dramatiq
from sqlalchemy import delete
from sqlalchemy.orm import Session

from broker.jobs import flush_ledger
from broker.redaction import REDACTED
from broker.sending import find_actor
from dashboard.queries import MAX_PER_PAGE, JobFilter, get_job, list_jobs
from domain.errors import InvalidArgument
from domain.models.jobs import FINAL_STATUSES, Job, JobStatus

#: At most this many dead jobs are requeued by one "requeue all".
REQUEUE_ALL_LIMIT = 10_000


def requeue(session: Session, broker: dramatiq.Broker, message_id: str, *, flush: bool = True) -> str:
    """Send a dead job again as a new message (retries reset), linked both ways; returns the new id."""
    job = get_job(session, message_id)
    if job.status != JobStatus.DEAD:
        raise InvalidArgument(f"Only dead jobs can be requeued; job {message_id!r} is {job.status!r}.")
    if _contains_redacted(job.args) or _contains_redacted(job.kwargs):
        raise InvalidArgument(
            f"Job {message_id!r} had secret arguments, which the ledger never stores; "
            "send it again from the application instead."
        )
    actor = find_actor(broker, job.actor_name)
    options = {"requeued_from": message_id}
    if job.priority:
        options["broker_priority"] = job.priority
    message = actor.send_with_options(args=tuple(job.args), kwargs=dict(job.kwargs), **options)
    job.options = {**(job.options or {}), "requeued_as": message.message_id}
    if flush:
        flush_ledger(broker)
    return message.message_id


def requeue_all(session: Session, broker: dramatiq.Broker, where: JobFilter) -> dict:
    """Requeue every dead job matching `where` (not yet requeued); says how many and which could not be."""
    requeued, refused, page = [], {}, 1
    while page * MAX_PER_PAGE <= REQUEUE_ALL_LIMIT:
        listed = list_jobs(
            session, replace(where, tab="failed", status=None, page=page, per_page=MAX_PER_PAGE)
        )
        for job in listed.jobs:
            if "requeued_as" in (job.options or {}):
                continue
            try:
                requeued.append(requeue(session, broker, job.message_id, flush=False))
            except InvalidArgument as error:
                refused[job.message_id] = str(error)
        if not listed.has_next:
            break
        page += 1
    flush_ledger(broker)
    return {"requeued": len(requeued), "message_ids": requeued, "refused": refused}


def delete_job(session: Session, message_id: str) -> None:
    """Forget a finished job; one still waiting or running stays (its message is still in the broker)."""
    job = get_job(session, message_id)
    if job.status not in FINAL_STATUSES:
        raise InvalidArgument(
            f"Job {message_id!r} is {job.status!r}: its message is still in the broker. "
            "Purge the queue, or wait until it has finished."
        )
    session.execute(delete(Job).where(Job.message_id == message_id))


def run_now(broker: dramatiq.Broker, actor_name: str, periodic_names: set[str]) -> str:
    """Send a periodic job outside its schedule; returns the message id."""
    if actor_name not in periodic_names:
        raise InvalidArgument(
            f"{actor_name!r} is not a periodic job; periodic jobs: {sorted(periodic_names)}."
        )
    message_id = find_actor(broker, actor_name).send_with_options(run_now=True).message_id
    flush_ledger(broker)
    return message_id


def _contains_redacted(value: object) -> bool:
    if isinstance(value, dict):
        return any(_contains_redacted(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_contains_redacted(item) for item in value)
    return value == REDACTED
