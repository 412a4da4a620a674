"""Cancelling jobs through the ledger: no broker feature needed, RabbitMQ or not.

A waiting job (enqueued, delayed, or waiting for a retry) is marked `cancelled` at once; its worker
skips it when it is delivered (acked, never run). A running job gets the request; its worker aborts
it within about a second. Either way the row says who asked and when, and a cancelled job is final:
the ledger never moves it again, and it is never retried.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.errors import InvalidArgument
from domain.models.base import utcnow
from domain.models.jobs import CANCELLABLE_STATUSES, Job, JobStatus

WAITING = (JobStatus.ENQUEUED, JobStatus.DELAYED, JobStatus.RETRYING)


@dataclass(frozen=True)
class CancelOutcome:
    message_id: str
    outcome: str  # cancelled | cancelling (running: its worker aborts it) | not_found | already <status>

    def as_dict(self) -> dict:
        return asdict(self)


def request_cancel(
    session: Session,
    *,
    message_ids: Iterable[str] = (),
    actor: str | None = None,
    queue: str | None = None,
    statuses: Iterable[str] = tuple(CANCELLABLE_STATUSES),
    by: str,
    now: datetime | None = None,
) -> list[CancelOutcome]:
    """Cancel the jobs named by id, or every job of `actor` (and `queue`) in one of `statuses`."""
    ids = list(dict.fromkeys(message_ids))
    wanted = {JobStatus(s) for s in statuses} if statuses else set(CANCELLABLE_STATUSES)
    if not wanted <= CANCELLABLE_STATUSES:
        names = ", ".join(sorted(s.value for s in CANCELLABLE_STATUSES))
        raise InvalidArgument(f"Only jobs that are {names} can be cancelled.")
    if not ids and not actor:
        raise InvalidArgument("Name the jobs to cancel: message ids, or an actor (and a queue).")
    now = now or utcnow()
    where = [Job.message_id.in_(ids)] if ids else [Job.actor_name == actor]
    if queue:
        where.append(Job.queue_name == queue)
    waiting = [s.value for s in wanted if s in WAITING]
    cancelled = session.scalars(
        update(Job)
        .where(*where, Job.status.in_(waiting))
        .values(status=JobStatus.CANCELLED.value, finished_at=now, updated_at=now,
                cancel_requested_at=now, cancelled_by=by)
        .returning(Job.message_id)
    ).all() if waiting else []  # fmt: skip
    cancelling = session.scalars(
        update(Job)
        .where(*where, Job.status == JobStatus.RUNNING.value, Job.cancel_requested_at.is_(None))
        .values(cancel_requested_at=now, cancelled_by=by)
        .returning(Job.message_id)
    ).all() if JobStatus.RUNNING in wanted else []  # fmt: skip
    outcomes = [CancelOutcome(m, "cancelled") for m in cancelled]
    outcomes += [CancelOutcome(m, "cancelling") for m in cancelling]
    done = set(cancelled) | set(cancelling)
    missed = [m for m in ids if m not in done]
    if missed:
        found = dict(
            session.execute(select(Job.message_id, Job.status).where(Job.message_id.in_(missed))).all()
        )
        outcomes += [CancelOutcome(m, f"already {found[m]}" if m in found else "not_found") for m in missed]
    return outcomes


def recent_cancels(session: Session, *, since: datetime) -> list[str]:
    """Ids of the jobs whose cancel was asked after `since` (a worker's poll; a partial index)."""
    return list(session.scalars(select(Job.message_id).where(Job.cancel_requested_at > since)))


#: How far back a worker that boots looks for cancels (a job cancelled while waiting that long).
BOOT_LOOKBACK = timedelta(days=1)
