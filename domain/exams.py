"""Exams: finishing an attempt when its time runs out, expiring stragglers, pruning and archiving."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, literal, select
from sqlalchemy.orm import Session

from domain.errors import NotFound
from domain.models.base import utcnow
from domain.models.exams import ArchivedAttempt, ArchivedProctoringEvent, Exam, ExamAttempt, ProctoringEvent
from domain.sql import plus_minutes

IN_PROGRESS, COMPLETED, EXPIRED = "in_progress", "completed", "expired"
#: The safety net expires an attempt this long after its limit (the delayed finish normally comes first).
EXPIRY_BUFFER_MINUTES = 5
ARCHIVE_BATCH = 500


def get_attempt(session: Session, attempt_id: int) -> ExamAttempt:
    attempt = session.get(ExamAttempt, attempt_id)
    if attempt is None:
        raise NotFound(f"Exam attempt {attempt_id!r} not found.")
    return attempt


def auto_finish(session: Session, *, attempt_id: int, now: datetime | None = None) -> dict:
    """Grade and expire the attempt if it is still in progress; a finished one is left as it is."""
    attempt = session.scalars(
        select(ExamAttempt).where(ExamAttempt.id == attempt_id).with_for_update()
    ).one_or_none()
    if attempt is None:
        raise NotFound(f"Exam attempt {attempt_id!r} not found.")
    if attempt.status != IN_PROGRESS:
        return {"attempt_id": attempt_id, "status": attempt.status, "finished": False, "score": attempt.score}
    _finish(session, attempt, now or utcnow())
    return {
        "attempt_id": attempt_id,
        "status": attempt.status,
        "finished": True,
        "score": attempt.score,
        "proctoring": attempt.proctoring,
    }


def expire_overdue(
    session: Session, *, now: datetime | None = None, buffer_minutes: int = EXPIRY_BUFFER_MINUTES
) -> dict:
    """Finish every attempt still in progress past its limit plus the buffer (lost delayed messages)."""
    now = now or utcnow()
    deadline = plus_minutes(session, ExamAttempt.started_at, ExamAttempt.time_limit_minutes + buffer_minutes)
    overdue = session.scalars(
        select(ExamAttempt)
        .where(ExamAttempt.status == IN_PROGRESS, deadline < literal(now))
        .with_for_update()
    ).all()
    for attempt in overdue:
        _finish(session, attempt, now)
    return {"expired_count": len(overdue), "attempt_ids": [a.id for a in overdue]}


def cleanup_old_events(session: Session, *, days: int = 90, now: datetime | None = None) -> dict:
    """Delete proctoring events older than `days`."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    deleted = session.execute(delete(ProctoringEvent).where(ProctoringEvent.occurred_at < cutoff)).rowcount
    return {"deleted_count": deleted, "cutoff": cutoff.isoformat()}


def archive_old_attempts(
    session: Session, *, days: int = 180, now: datetime | None = None, batch: int = ARCHIVE_BATCH
) -> dict:
    """Move finished attempts older than `days`, with their events, into the archive tables.

    One transaction (the caller's), in batches of `batch` attempts so no statement grows unbounded.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    moved = events_moved = 0
    while True:
        ids = session.scalars(
            select(ExamAttempt.id)
            .where(ExamAttempt.status != IN_PROGRESS, ExamAttempt.started_at < cutoff)
            .order_by(ExamAttempt.id)
            .limit(batch)
        ).all()
        if not ids:
            break
        attempt_columns = [c.name for c in ExamAttempt.__table__.columns]
        session.execute(
            insert(ArchivedAttempt).from_select(
                [*attempt_columns, "archived_at"],
                select(*ExamAttempt.__table__.columns, literal(now, ArchivedAttempt.archived_at.type)).where(
                    ExamAttempt.id.in_(ids)
                ),
            )
        )
        event_columns = [c.name for c in ProctoringEvent.__table__.columns]
        events_moved += session.execute(
            insert(ArchivedProctoringEvent).from_select(
                event_columns,
                select(*ProctoringEvent.__table__.columns).where(ProctoringEvent.attempt_id.in_(ids)),
            )
        ).rowcount
        session.execute(delete(ProctoringEvent).where(ProctoringEvent.attempt_id.in_(ids)))
        moved += session.execute(delete(ExamAttempt).where(ExamAttempt.id.in_(ids))).rowcount
    return {"archived_attempts": moved, "archived_events": events_moved, "cutoff": cutoff.isoformat()}


def _finish(session: Session, attempt: ExamAttempt, now: datetime) -> None:
    exam = session.get(Exam, attempt.exam_id)
    key = exam.answer_key if exam else {}
    correct = sum(1 for question, answer in key.items() if (attempt.answers or {}).get(question) == answer)
    attempt.score = round(100.0 * correct / len(key), 2) if key else 0.0
    kinds = Counter(
        session.scalars(select(ProctoringEvent.kind).where(ProctoringEvent.attempt_id == attempt.id))
    )
    attempt.proctoring = {"events": sum(kinds.values()), "by_kind": dict(sorted(kinds.items()))}
    attempt.status, attempt.finished_at = EXPIRED, now
