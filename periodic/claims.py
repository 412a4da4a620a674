"""Claims on periodic slots in the database: the first scheduler to insert a slot's row owns it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain.models.base import utcnow
from domain.models.jobs import Job, JobStatus
from domain.models.periodic import PeriodicRun

CLAIMED, SENT, SKIPPED = "claimed", "sent", "skipped"


def claim(
    session: Session,
    *,
    actor_name: str,
    slot_at: datetime,
    status: str,
    message_id: str,
    claimed_by: str,
    claimed_at: datetime,
    note: str | None = None,
) -> bool:
    """Insert the slot's row unless one exists (INSERT … ON CONFLICT DO NOTHING); True if this call won."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(PeriodicRun)
        .values(
            actor_name=actor_name,
            slot_at=slot_at,
            status=status,
            message_id=message_id,
            claimed_by=claimed_by,
            claimed_at=claimed_at,
            note=note,
        )
        .on_conflict_do_nothing(index_elements=["actor_name", "slot_at"])
    )
    return session.execute(statement).rowcount == 1


def mark_sent(session: Session, *, actor_name: str, slot_at: datetime) -> None:
    """The slot's message is confirmed by the broker."""
    session.execute(
        update(PeriodicRun)
        .where(PeriodicRun.actor_name == actor_name, PeriodicRun.slot_at == slot_at)
        .values(status=SENT)
    )


def last_slot(session: Session, actor_name: str) -> datetime | None:
    """The newest slot of `actor_name` any scheduler has claimed."""
    return session.scalar(select(func.max(PeriodicRun.slot_at)).where(PeriodicRun.actor_name == actor_name))


def last_run(session: Session, actor_name: str) -> PeriodicRun | None:
    """The newest claimed slot of `actor_name`, sent or skipped."""
    statement = (
        select(PeriodicRun)
        .where(PeriodicRun.actor_name == actor_name)
        .order_by(PeriodicRun.slot_at.desc())
        .limit(1)
    )
    return session.scalars(statement).first()


def unsent_claims(session: Session, *, claimed_before: datetime) -> list[PeriodicRun]:
    """Claims whose scheduler died between claiming and sending."""
    statement = select(PeriodicRun).where(
        PeriodicRun.status == CLAIMED, PeriodicRun.claimed_at < claimed_before
    )
    return list(session.scalars(statement))


def record_skipped_job(
    session: Session, *, message_id: str, actor_name: str, queue_name: str, slot_at: datetime, reason: str
) -> None:
    """A ledger row saying a slot was skipped on purpose, and why."""
    now = utcnow()
    session.merge(
        Job(
            message_id=message_id,
            queue_name=queue_name,
            actor_name=actor_name,
            status=JobStatus.SKIPPED,
            progress=3,
            args=[],
            kwargs={},
            options={"scheduled_at": slot_at.isoformat()},
            priority=0,
            retries=0,
            enqueued_at=now,
            finished_at=now,
            error_type="SlotSkipped",
            error_message=reason,
            updated_at=now,
        )
    )
