"""An exam's timers: the live session, the reminders that still fit, the finish, the hourly cleanup."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_string
from pathlib import Path

import dramatiq
import pytest

from broker import runtime
from broker.errors import ConfigError
from broker.settings import Settings
from domain import db
from domain.exam_sessions import SqlSessions
from domain.models.accounts import User
from domain.models.base import utcnow
from domain.models.exams import Exam, ExamAttempt
from tests.support.ledger import wait_for


@pytest.fixture
def exam_worker(sqlite_url: str, tmp_path: Path):
    """Every actor on the in-memory broker with worker threads; mail goes to tmp_path/outbox."""
    import actors

    settings = Settings(broker_url="memory://", database_url=sqlite_url, mail_outbox_dir=tmp_path / "outbox")
    broker = runtime.configure(settings)
    runtime.rebind_actors(broker, actors.all_actors())
    broker.emit_after("process_boot")
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=2)
    worker.start()
    yield tmp_path / "outbox"
    worker.stop()
    broker.close()


def attempt_ending_in(seconds: float, limit_minutes: int = 10) -> int:
    with db.session_scope() as session:
        session.add(User(id=5, email="student@example.com", username="student", full_name="Анна"))
        exam = Exam(title="Алгебра", answer_key={"1": "a"}, time_limit_minutes=limit_minutes)
        session.add(exam)
        session.flush()
        started = utcnow() - timedelta(minutes=limit_minutes) + timedelta(seconds=seconds)
        attempt = ExamAttempt(
            exam_id=exam.id, user_id=5, started_at=started, time_limit_minutes=limit_minutes
        )
        session.add(attempt)
        session.flush()
        return attempt.id


def mails(outbox: Path) -> list[str]:
    return (
        [path.read_text(encoding="utf-8") for path in sorted(outbox.glob("*.eml"))] if outbox.exists() else []
    )


def plain_text(mail: str) -> str:
    part = next(p for p in message_from_string(mail).walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode()


def test_an_exam_start_opens_its_session_and_sends_only_the_reminders_still_ahead(exam_worker):
    from actors import email, exams

    attempt_id = attempt_ending_in(seconds=2 * 60 + 1.5)  # "2 minutes left" is 1.5 s away; "10" passed

    started = exams.start_exam(attempt_id, ip="10.0.0.7")

    assert len(started["reminder_jobs"]) == 1
    session = exams.session_store().get(attempt_id)
    assert (session["user_id"], session["ip"], session["attempt_id"]) == (5, "10.0.0.7", attempt_id)
    [mail] = wait_for(lambda: mails(exam_worker), timeout=15, what="the 2-minute reminder")
    assert "student@example.com" in mail and "осталось 2 мин." in plain_text(mail)

    finished = exams.auto_finish_exam.fn(attempt_id)  # what the delayed job does at the end
    late = email.send_exam_reminder.fn(attempt_id, 1)

    assert finished["status"] == "expired" and finished["session_removed"] is True
    assert exams.session_store().get(attempt_id) is None
    assert late["status"] == "skipped" and len(mails(exam_worker)) == 1


def test_the_reminder_text_says_how_many_minutes_are_left(exam_worker):
    from actors import email

    attempt_id = attempt_ending_in(seconds=300)

    sent = email.send_exam_reminder.fn(attempt_id, 5)
    again = email.send_exam_reminder.fn(attempt_id, 5)

    [mail] = mails(exam_worker)
    assert "До конца экзамена «Алгебра» осталось 5 мин." in plain_text(mail)
    assert (sent["status"], again["status"]) == ("sent", "already_sent")


def test_the_hourly_cleanup_removes_sessions_past_their_end(exam_worker):
    from actors import exams

    store = SqlSessions(db.session_scope)
    store.open(1, ends_at=utcnow() - timedelta(hours=1), payload={})
    store.open(2, ends_at=utcnow() + timedelta(minutes=30), payload={})

    result = exams.cleanup_old_exam_sessions.fn()

    assert result == {"removed_count": 1, "store": "SqlSessions"}
    assert store.get(1) is None and store.get(2)["attempt_id"] == 2


def test_reminder_minutes_are_read_from_the_environment_and_checked():
    assert Settings.from_env({"EXAM_REMINDER_MINUTES": "2, 10,5"}).exam_reminder_minutes == (10, 5, 2)
    assert Settings.from_env({"EXAM_REMINDER_MINUTES": ""}).exam_reminder_minutes == ()
    with pytest.raises(ConfigError, match="EXAM_REMINDER_MINUTES='ten' must be whole minutes"):
        Settings.from_env({"EXAM_REMINDER_MINUTES": "ten"})
    with pytest.raises(ConfigError, match="EXAM_SESSION_URL"):
        Settings.from_env({"EXAM_SESSION_URL": "http://x"})
