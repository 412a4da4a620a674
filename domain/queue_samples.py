"""Queue depth over time: one sample per queue per slot, so a growing backlog shows at a glance."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain.models.base import utcnow
from domain.models.jobs import Job, JobStatus, QueueSample

#: How long samples are kept.
KEEP = timedelta(days=7)


@dataclass(frozen=True)
class Depth:
    queue_name: str
    ready: int | None
    delayed: int | None
    dead: int | None


def slot_of(moment: datetime, every_seconds: float) -> datetime:
    """`moment` rounded down to its sampling slot: samplers in several schedulers write one row."""
    epoch = moment.timestamp()
    return datetime.fromtimestamp(epoch - epoch % every_seconds, tz=moment.tzinfo)


def oldest_waiting(session: Session, queues: Iterable[str]) -> dict[str, datetime]:
    """Per queue, when its oldest job still waiting to start was enqueued (the ledger's view).

    One lookup per queue at the start of the (queue, status, enqueued_at) index, in one statement."""
    names = sorted(set(queues))
    if not names:
        return {}
    firsts = [
        select(func.min(Job.enqueued_at))
        .where(Job.queue_name == name, Job.status == JobStatus.ENQUEUED)
        .scalar_subquery()
        .label(f"q{index}")
        for index, name in enumerate(names)
    ]
    row = session.execute(select(*firsts)).one()
    return {name: first for name, first in zip(names, row, strict=True) if first is not None}


def record(session: Session, depths: Iterable[Depth], *, at: datetime, every_seconds: float) -> int:
    """Store one sample per queue for the slot of `at` (a slot already sampled is left alone)."""
    slot = slot_of(at, every_seconds)
    depths = list(depths)
    oldest = oldest_waiting(session, (d.queue_name for d in depths))
    age = {queue: (at - enqueued).total_seconds() for queue, enqueued in oldest.items()}
    rows = [
        {
            "queue_name": d.queue_name,
            "sampled_at": slot,
            "ready": d.ready,
            "delayed": d.delayed,
            "dead": d.dead,
            "oldest_age_seconds": age.get(d.queue_name, 0.0),  # nothing waiting: age 0
        }
        for d in depths
    ]
    if not rows:
        return 0
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(QueueSample).values(rows).on_conflict_do_nothing())
    session.execute(delete(QueueSample).where(QueueSample.sampled_at < at - KEEP))
    return len(rows)


def recent(session: Session, *, since: datetime) -> list[QueueSample]:
    """Samples since `since`, oldest first."""
    statement = select(QueueSample).where(QueueSample.sampled_at >= since).order_by(QueueSample.sampled_at)
    return list(session.scalars(statement))


def latest(session: Session) -> dict[str, QueueSample]:
    """The newest sample of each queue in the last hour."""
    return {s.queue_name: s for s in recent(session, since=utcnow() - timedelta(hours=1))}
