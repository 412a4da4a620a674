"""Sessions cleanup, statistics and exam expiry on SQLite (the embedded default's database)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from domain import db, reading
from domain import exams as exam_service
from domain.errors import InvalidArgument
from domain.models.base import utcnow
from domain.models.exams import Exam, ExamAttempt
from domain.models.reading import ReadingSession


def test_sessions_close_in_one_statement_with_their_duration_on_sqlite(sqlite_url):
    now = utcnow()
    with db.session_scope() as session:
        session.add_all(
            [
                ReadingSession(
                    user_id=1,
                    book_id=1,
                    started_at=now - timedelta(hours=3, minutes=10),
                    start_position=5,
                    end_position=40,
                ),
                ReadingSession(user_id=1, book_id=1, started_at=now - timedelta(hours=1), start_position=5),
            ]
        )

    with db.session_scope() as session:
        result = reading.close_abandoned(session, now=now)
    with db.session_scope() as session:
        again = reading.close_abandoned(session, now=now)
        rows = session.query(ReadingSession).order_by(ReadingSession.id).all()
        stats = reading.cleanup_statistics(session, hours=24, now=now)

    assert (result.closed_count, again.closed_count) == (1, 0)
    assert [(r.is_active, r.duration_minutes, r.end_position) for r in rows] == [
        (False, 190, 40),
        (True, None, None),
    ]
    assert (stats["total_closed"], stats["total_active"], stats["avg_duration_minutes"]) == (1, 1, 190.0)


@pytest.mark.parametrize("hours", [0, 169, -1, 2.5, "24"])
def test_cleanup_statistics_accepts_only_one_to_168_hours(sqlite_url, hours):
    with db.session_scope() as session, pytest.raises(InvalidArgument, match="hours must be a whole number"):
        reading.cleanup_statistics(session, hours=hours)


def test_overdue_attempts_expire_on_sqlite_too(sqlite_url):
    now = utcnow()
    with db.session_scope() as session:
        exam = Exam(title="t", answer_key={"q": "a"}, time_limit_minutes=10)
        session.add(exam)
        session.flush()
        late = ExamAttempt(
            exam_id=exam.id,
            user_id=1,
            started_at=now - timedelta(minutes=16),
            time_limit_minutes=10,
            answers={"q": "a"},
        )
        early = ExamAttempt(
            exam_id=exam.id, user_id=1, started_at=now - timedelta(minutes=14), time_limit_minutes=10
        )
        session.add_all([late, early])
        session.flush()
        late_id = late.id

    with db.session_scope() as session:
        result = exam_service.expire_overdue(session, now=now)
        assert result == {"expired_count": 1, "attempt_ids": [late_id]}
        assert session.get(ExamAttempt, late_id).score == 100.0


def test_job_history_pruning_keeps_recent_jobs_and_dead_ones_longer_and_sent_outbox_rows_go_too(sqlite_url):
    from domain.models.jobs import Job
    from domain.models.outbox import OutboxMessage
    from domain.stats import prune_job_history

    now = utcnow()

    def add_job(message_id: str, status: str, days_ago: int) -> None:
        at = now - timedelta(days=days_ago)
        session.add(
            Job(
                message_id=message_id,
                queue_name="default",
                actor_name="echo",
                status=status,
                progress=3,
                enqueued_at=at,
                updated_at=at,
            )
        )

    with db.session_scope() as session:
        add_job("old-done", "done", 40)
        add_job("new-done", "done", 5)
        add_job("old-dead", "dead", 40)
        add_job("ancient-dead", "dead", 100)
        add_job("old-waiting", "enqueued", 40)
        for n, sent_days_ago in enumerate([40, 5, None]):
            sent_at = now - timedelta(days=sent_days_ago) if sent_days_ago is not None else None
            session.add(
                OutboxMessage(
                    message_id=f"o{n}",
                    queue_name="default",
                    actor_name="echo",
                    body=b"{}",
                    created_at=now - timedelta(days=41),
                    sent_at=sent_at,
                )
            )

    result = prune_job_history(db.session_scope, days=30, dead_days=90, now=now)

    with db.session_scope() as session:
        left = sorted(session.scalars(select(Job.message_id)))
        outbox = sorted(session.scalars(select(OutboxMessage.message_id)))
    assert left == ["new-done", "old-dead", "old-waiting"]
    assert outbox == ["o1", "o2"]  # sent 5 days ago, and never sent
    assert (result["deleted"], result["outbox_deleted"]) == (2, 1)
