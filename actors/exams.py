"""Exam actors on the `exams` queue, and `start_exam`, which an app calls when an attempt begins."""

from __future__ import annotations

from datetime import timedelta

import dramatiq

from actors.email import send_exam_reminder
from broker.runtime import current_settings
from domain import db, exam_sessions
from domain import exams as exam_service
from domain.models.base import utcnow
from periodic import schedule


def session_store() -> exam_sessions.SessionStore:
    """Where live exam sessions are kept: Redis with `EXAM_SESSION_URL`, else the database."""
    return exam_sessions.store_for(current_settings().exam_session_url, db.session_scope)


def start_exam(attempt_id: int, **session_data) -> dict:
    """Open the attempt's live session and send its timers: `auto_finish_exam` at its end, and
    `send_exam_reminder` `EXAM_REMINDER_MINUTES` before it (10 and 2 by default; only those still
    ahead). Call it after the attempt row is committed; extra keyword arguments go into the session."""
    with db.session_scope() as session:
        attempt = exam_service.get_attempt(session, attempt_id)
        started_at, limit = attempt.started_at, attempt.time_limit_minutes
        payload = {"user_id": attempt.user_id, "exam_id": attempt.exam_id, **session_data}
    ends_at = started_at + timedelta(minutes=limit)
    session_store().open(
        attempt_id, ends_at=ends_at, payload={**payload, "started_at": started_at.isoformat()}
    )
    now = utcnow()

    def delay_until(moment) -> int:
        return max(int((moment - now).total_seconds() * 1000), 0)

    finish = auto_finish_exam.send_with_options(args=(attempt_id,), delay=delay_until(ends_at))
    reminders = [
        send_exam_reminder.send_with_options(
            args=(attempt_id, minutes), delay=delay_until(ends_at - timedelta(minutes=minutes))
        )
        for minutes in current_settings().exam_reminder_minutes
        if ends_at - timedelta(minutes=minutes) >= now  # no "10 minutes left" when 3 are
    ]
    return {
        "attempt_id": attempt_id,
        "ends_at": ends_at.isoformat(),
        "auto_finish_job": finish.message_id,
        "reminder_jobs": [message.message_id for message in reminders],
    }


@dramatiq.actor(queue_name="exams")
def auto_finish_exam(attempt_id: int) -> dict:
    """Sent with `delay` = the time limit when an exam starts: grades and expires it if still running,
    and removes its live session."""
    with db.session_scope() as session:
        result = exam_service.auto_finish(session, attempt_id=attempt_id)
    return {**result, "session_removed": session_store().close(attempt_id)}


@dramatiq.actor(queue_name="exams", **schedule.periodic_options("cleanup_expired_exams"))
def cleanup_expired_exams() -> dict:
    """Expire attempts still running past their limit plus a buffer (if a delayed finish was lost)."""
    with db.session_scope() as session:
        result = exam_service.expire_overdue(session)
    store = session_store()
    removed = sum(store.close(attempt_id) for attempt_id in result["attempt_ids"])
    return {**result, "sessions_removed": removed}


@dramatiq.actor(queue_name="exams", **schedule.periodic_options("cleanup_old_exam_sessions"))
def cleanup_old_exam_sessions() -> dict:
    """The original's `cleanup_old_redis_sessions` (hourly): remove live sessions past their end."""
    store = session_store()
    return {"removed_count": store.remove_stale(), "store": type(store).__name__}


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
