"""Reading-session cleanup, exams and monitoring on the real RabbitMQ and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from actors import exams as exam_actors
from actors import monitoring, reading
from domain import db
from domain.models.base import utcnow
from domain.models.exams import ArchivedAttempt, ArchivedProctoringEvent, Exam, ExamAttempt, ProctoringEvent
from domain.models.reading import ReadingSession
from domain.models.stats import DailyStats, SystemSnapshot
from tests.support.ledger import wait_for_status

pytestmark = pytest.mark.integration


def run(message, status: str = "done", timeout: float = 30):
    return wait_for_status(message.message_id, status, timeout=timeout)


def test_abandoned_sessions_older_than_the_deadline_are_closed_once_with_their_duration(
    rabbitmq_broker, start_worker
):
    start_worker()
    now = utcnow()
    with db.session_scope() as session:
        old = ReadingSession(
            user_id=1, book_id=1, started_at=now - timedelta(hours=3), start_position=10, end_position=55
        )
        fresh = ReadingSession(user_id=1, book_id=1, started_at=now - timedelta(minutes=30), start_position=3)
        closed = ReadingSession(
            user_id=1,
            book_id=1,
            started_at=now - timedelta(hours=6),
            ended_at=now,
            is_active=False,
            start_position=1,
            end_position=9,
            duration_minutes=12,
        )
        session.add_all([old, fresh, closed])
        session.flush()
        ids = old.id, fresh.id, closed.id

    first = run(reading.close_abandoned_sessions.send()).result
    second = run(reading.close_abandoned_sessions.send()).result

    assert (first["closed_count"], second["closed_count"]) == (1, 0)
    assert set(first) == {"closed_count", "execution_time_ms", "deadline"}
    with db.session_scope() as session:
        old, fresh, closed = (session.get(ReadingSession, i) for i in ids)
        assert (old.is_active, old.end_position) == (False, 55)
        assert old.duration_minutes in (179, 180, 181)
        assert old.ended_at >= now
        assert fresh.is_active and fresh.ended_at is None
        assert (closed.duration_minutes, closed.end_position) == (12, 9)


def add_attempt(
    session, exam: Exam, status: str = "in_progress", started_minutes_ago: float = 1, **fields
) -> int:
    attempt = ExamAttempt(
        exam_id=exam.id,
        user_id=1,
        started_at=utcnow() - timedelta(minutes=started_minutes_ago),
        time_limit_minutes=exam.time_limit_minutes,
        status=status,
        **fields,
    )
    session.add(attempt)
    session.flush()
    return attempt.id


def test_auto_finish_grades_an_unfinished_attempt_leaves_a_completed_one_and_survives_a_restart(
    rabbitmq_broker, start_worker
):
    first = start_worker()
    with db.session_scope() as session:
        exam = Exam(
            title="Алгебра", answer_key={"q1": "a", "q2": "b", "q3": "c", "q4": "d"}, time_limit_minutes=1
        )
        session.add(exam)
        session.flush()
        running = add_attempt(session, exam, answers={"q1": "a", "q2": "x", "q3": "c"})
        done = add_attempt(session, exam, status="completed", score=75.0, answers={"q1": "a"})
        session.add(ProctoringEvent(attempt_id=running, kind="tab_switch", occurred_at=utcnow()))

    messages = [
        exam_actors.auto_finish_exam.send_with_options(args=(i,), delay=3_000) for i in (running, done)
    ]
    first.kill()  # the delayed messages were held by this worker; they must survive it
    start_worker()

    results = [run(m).result for m in messages]
    assert results[0]["finished"] and results[0]["score"] == 50.0
    assert results[1] == {
        "attempt_id": done,
        "status": "completed",
        "finished": False,
        "score": 75.0,
        "session_removed": False,
    }
    with db.session_scope() as session:
        attempt = session.get(ExamAttempt, running)
        assert attempt.status == "expired" and attempt.proctoring == {
            "events": 1,
            "by_kind": {"tab_switch": 1},
        }
        assert session.get(ExamAttempt, done).status == "completed"


def test_expiry_proctoring_cleanup_and_archiving_move_exactly_the_right_rows(rabbitmq_broker, start_worker):
    start_worker()
    now = utcnow()
    with db.session_scope() as session:
        exam = Exam(title="История", answer_key={"q1": "a"}, time_limit_minutes=30)
        session.add(exam)
        session.flush()
        overdue = add_attempt(session, exam, started_minutes_ago=40)  # 30 + 5 buffer passed
        within_buffer = add_attempt(session, exam, started_minutes_ago=33)
        old_done = add_attempt(session, exam, status="completed", started_minutes_ago=200 * 24 * 60)
        recent_done = add_attempt(session, exam, status="completed", started_minutes_ago=10 * 24 * 60)
        session.add_all(
            [
                ProctoringEvent(attempt_id=old_done, kind="face_lost", occurred_at=now - timedelta(days=200)),
                ProctoringEvent(
                    attempt_id=recent_done, kind="face_lost", occurred_at=now - timedelta(days=100)
                ),
                ProctoringEvent(
                    attempt_id=recent_done, kind="tab_switch", occurred_at=now - timedelta(days=10)
                ),
            ]
        )

    expired = run(exam_actors.cleanup_expired_exams.send()).result
    assert expired["attempt_ids"] == [overdue]
    pruned = run(exam_actors.cleanup_old_proctoring_events.send(150)).result
    assert pruned["deleted_count"] == 1  # only the 200-day-old event; the 100-day one is inside 150 days
    archived = run(exam_actors.archive_old_attempts.send(180)).result
    assert (archived["archived_attempts"], archived["archived_events"]) == (1, 0)

    with db.session_scope() as session:
        assert {a.id: a.status for a in session.scalars(select(ExamAttempt))} == {
            overdue: "expired",
            within_buffer: "in_progress",
            recent_done: "completed",
        }
        assert [a.id for a in session.scalars(select(ArchivedAttempt))] == [old_done]
        assert session.scalars(select(ArchivedProctoringEvent)).all() == []
        assert len(session.scalars(select(ProctoringEvent)).all()) == 2


def test_system_stats_reports_real_queue_counts(rabbitmq_broker, start_worker):
    from actors import email as email_actors

    start_worker(queues=("default",))  # nobody consumes `email`
    for i in range(4):
        email_actors.send_email.send(f"r{i}@example.com", "s", context={"body": "b"})
    for i in range(2):
        email_actors.send_email.send_with_options(
            args=(f"d{i}@example.com", "s"), kwargs={"context": {"body": "b"}}, delay=600_000
        )

    stats = run(monitoring.system_stats.send()).result

    assert stats["queues"]["email"]["ready"] == stats["celery_queue_lengths"]["email"] == 4
    assert stats["queues"]["email"]["delayed"] == 2
    assert stats["queues"]["default"]["consumers"] >= 1
    with db.session_scope() as session:
        assert session.scalars(select(SystemSnapshot.stats)).one()["queues"]["email"]["ready"] == 4


def test_health_check_answers_from_the_workers_of_any_queue(rabbitmq_broker, start_worker):
    start_worker(queues=("email",))

    answer = run(monitoring.check_queue("email"))

    assert answer.queue_name == "email" and answer.result["status"] == "healthy"


def test_daily_stats_for_a_day_are_the_same_after_two_runs(rabbitmq_broker, start_worker):
    start_worker()
    yesterday = (utcnow() - timedelta(days=1)).replace(hour=12)
    with db.session_scope() as session:
        session.add_all(ReadingSession(user_id=1, book_id=1, started_at=yesterday) for _ in range(3))

    day = yesterday.date().isoformat()
    first = run(monitoring.generate_daily_stats.send(day)).result
    second = run(monitoring.generate_daily_stats.send(day)).result

    assert first == second and first["reading_sessions"] == 3 and first["day"] == day
    with db.session_scope() as session:
        rows = session.scalars(select(DailyStats)).all()
    assert [(row.day, row.stats) for row in rows] == [(date.fromisoformat(day), first)]
