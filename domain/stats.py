"""Monitoring figures: a system snapshot (with queue depths the caller reads from the broker), daily stats."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain import ledger_partitions
from domain.models.accounts import MentorSession, User
from domain.models.base import utcnow
from domain.models.books import Book, Description
from domain.models.images import GeneratedImage
from domain.models.jobs import Job, JobStatus
from domain.models.outbox import OutboxMessage
from domain.models.reading import ReadingSession
from domain.models.stats import DailyStats, SystemSnapshot


def system_snapshot(session: Session, *, queues: dict[str, dict[str, Any]]) -> dict:
    """Counts of the platform's main tables and of every queue; stored as a row and returned."""
    now = utcnow()
    count = lambda model, *where: session.scalar(select(func.count()).select_from(model).where(*where))  # noqa: E731
    stats = {
        "timestamp": now.isoformat(),
        "users_total": count(User),
        "books_total": count(Book),
        "descriptions_total": count(Description),
        "images_generated": count(GeneratedImage, GeneratedImage.status == "completed"),
        "active_sessions": count(ReadingSession, ReadingSession.is_active.is_(True)),
        "celery_queue_lengths": {name: counts.get("ready", 0) for name, counts in queues.items()},
        "books_processed": count(Book, Book.status == "processed"),
        "queues": queues,
    }
    session.add(SystemSnapshot(taken_at=now, stats=stats))
    return stats


def daily_stats(session: Session, *, day: date) -> dict:
    """The figures of `day` (UTC), upserted: running it again for the same day gives the same row."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    end = start + timedelta(days=1)
    within = lambda column: (column >= start, column < end)  # noqa: E731
    count = lambda model, *where: session.scalar(select(func.count()).select_from(model).where(*where))  # noqa: E731
    stats = {
        "day": day.isoformat(),
        "new_users": count(User, *within(User.created_at)),
        "reading_sessions": count(ReadingSession, *within(ReadingSession.started_at)),
        "mentor_sessions": count(MentorSession, *within(MentorSession.scheduled_at)),
        "books_processed": count(Book, *within(Book.processed_at)),
        "images_generated": count(
            GeneratedImage, GeneratedImage.status == "completed", *within(GeneratedImage.created_at)
        ),
        "jobs_done": count(Job, Job.status == JobStatus.DONE, *within(Job.finished_at)),
        "jobs_failed": count(Job, Job.status == JobStatus.DEAD, *within(Job.finished_at)),
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(DailyStats).values(day=day, stats=stats, updated_at=utcnow())
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[DailyStats.day], set_={"stats": statement.excluded.stats, "updated_at": utcnow()}
        )
    )
    return stats


def prune_job_history(
    session_scope, *, days: int = 30, dead_days: int = 90, batch: int = 5_000, now: datetime | None = None
) -> dict:
    """Remove finished ledger rows older than `days` (dead ones after `dead_days`): whole day
    partitions dropped on PostgreSQL (see domain.ledger_partitions), the rest `batch` rows a commit."""
    now = now or utcnow()
    retention = ledger_partitions.Retention(days=days, dead_days=dead_days)
    with session_scope() as session:
        engine = session.get_bind()
    partitions = ledger_partitions.drop_expired_partitions(engine, retention, now=now)
    removed = 0
    while True:
        with session_scope() as session:
            ids = session.scalars(select(Job.message_id).where(retention.expired(now)).limit(batch)).all()
            if ids:
                session.execute(delete(Job).where(Job.message_id.in_(ids)))
        removed += len(ids)
        if len(ids) < batch:
            break
    cutoff = now - timedelta(days=days)
    with session_scope() as session:  # send_on_commit rows the relay sent before the cutoff
        sent = session.execute(delete(OutboxMessage).where(OutboxMessage.sent_at < cutoff))
    return {
        "deleted": removed,
        "kept_dead_days": dead_days,
        "days": days,
        "outbox_deleted": sent.rowcount,
        "partitions_dropped": partitions["dropped"],
        "rows_kept_from_dropped": partitions["kept_rows"],
    }
