"""Exam actors on the `exams` queue."""

from __future__ import annotations

import dramatiq

from domain import db
from domain import exams as exam_service
from periodic import schedule


@dramatiq.actor(queue_name="exams")
def auto_finish_exam(attempt_id: int) -> dict:
    """Send with `delay` = the time limit when an exam starts: grades and expires it if still running."""
    with db.session_scope() as session:
        return exam_service.auto_finish(session, attempt_id=attempt_id)


@dramatiq.actor(queue_name="exams", **schedule.periodic_options("cleanup_expired_exams"))
def cleanup_expired_exams() -> dict:
    """Expire attempts still running past their limit plus a buffer (if a delayed finish was lost)."""
    with db.session_scope() as session:
        return exam_service.expire_overdue(session)


@dramatiq.actor(queue_name="exams", **schedule.periodic_options("cleanup_old_proctoring_events"))
def cleanup_old_proctoring_events(days: int = 90) -> dict:
    """Delete proctoring events older than `days`."""
    with db.session_scope() as session:
        return exam_service.cleanup_old_events(session, days=days)


@dramatiq.actor(queue_name="exams", **schedule.periodic_options("archive_old_attempts"))
def archive_old_attempts(days: int = 180) -> dict:
    """Move finished attempts older than `days` and their events to the archive, in one transaction."""
    with db.session_scope() as session:
        return exam_service.archive_old_attempts(session, days=days)
