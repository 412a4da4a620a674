"""The ledger on SQLite with the in-memory broker: statuses, ordering, results, redaction."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from dramatiq.broker import MessageProxy
from dramatiq.results import ResultFailure
from sqlalchemy import select

from broker.ledger import LedgerWriter, merge_events
from broker.middleware import Ledger
from broker.redaction import redact, redact_args
from domain import db
from domain.models.jobs import Job, WorkerHeartbeat
from tests.support import actors as test_actors
from tests.support.ledger import wait_for, wait_for_status


@pytest.fixture(autouse=True)
def attempts_table(sqlite_url):
    test_actors.create_tables()


def event(message_id: str, status: str, progress: int, **fields) -> dict:
    return {
        "message_id": message_id,
        "queue_name": "default",
        "actor_name": "echo",
        "status": status,
        "progress": progress,
        "args": [1],
        "kwargs": {},
        "options": {},
        "priority": 0,
        "retries": progress // 10,
        "enqueued_at": datetime(2026, 1, 1, tzinfo=UTC),
        **fields,
    }


def test_a_late_enqueued_event_never_moves_a_done_row_back(sqlite_url):
    writer = LedgerWriter(db.get_engine)
    writer.record(event("m1", "done", 3, result=1, worker_id="w:1"))
    writer.flush()
    writer.record(event("m1", "enqueued", 0))
    writer.close()

    with db.session_scope() as session:
        row = session.get(Job, "m1")
    assert (row.status, row.result, row.worker_id) == ("done", 1, "w:1")


def test_events_merged_in_memory_keep_the_furthest_status_and_every_known_field():
    running = event("m", "running", 1, worker_id="w:1", started_at=datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC))
    done = event("m", "done", 3, result={"ok": True})

    merged = merge_events(done, running)

    assert merged["status"] == "done"
    assert merged["worker_id"] == "w:1"
    assert merged["result"] == {"ok": True}
    assert merged["started_at"].second == 1


def test_a_retry_moves_the_row_forward_again():
    failed_once = event("m", "retrying", 10, error_type="TransientError")
    running_again = event("m", "running", 11)

    assert merge_events(failed_once, running_again)["status"] == "running"
    assert merge_events(running_again, failed_once)["status"] == "running"


def test_a_job_runs_and_its_result_reads_back_from_the_ledger(stub_broker, stub_worker):
    message = test_actors.echo.send(5)

    assert message.get_result(block=True, timeout=5_000) == 5
    row = wait_for_status(message.message_id, "done")
    assert row.args == [5]
    assert row.started_at is not None and row.finished_at >= row.started_at


def test_a_transient_failure_is_retried_and_the_row_ends_done(stub_broker, stub_worker):
    message = test_actors.flaky.send("k1", 1)

    assert message.get_result(block=True, timeout=5_000) == {"key": "k1", "attempts": 2}
    row = wait_for_status(message.message_id, "done")
    assert row.retries == 1


def test_a_permanent_failure_ends_dead_after_one_attempt(stub_broker, stub_worker):
    message = test_actors.permanent_failure.send("k2")

    with pytest.raises(ResultFailure, match=r"PermanentError: Book 'k2' not found\."):
        message.get_result(block=True, timeout=5_000)
    assert wait_for_status(message.message_id, "dead").retries == 0
    assert len(test_actors.attempt_times("k2")) == 1


def test_secrets_never_reach_the_ledger(stub_broker, stub_worker):
    message = test_actors.issue_login.send(3, "hunter2")
    message.get_result(block=True, timeout=5_000)

    row = wait_for_status(message.message_id, "done")
    assert row.args == [3, "***"]
    assert row.result == {"user_id": 3, "token": "***"}
    assert "hunter2" not in str(row.options)


def test_redaction_finds_secret_keys_at_any_depth():
    user = {"email": "a@b.c", "Password": "x", "tokens": ["t"]}
    value = {"user": user, "api_key": "k", "n": [1, {"secret": 2}]}

    assert redact(value) == {
        "user": {"email": "a@b.c", "Password": "***", "tokens": "***"},
        "api_key": "***",
        "n": [1, {"secret": "***"}],
    }
    assert redact_args([1, "pw", {"token": "t"}], ["user_id", "password"]) == [1, "***", {"token": "***"}]


def test_worker_threads_beat_into_the_heartbeat_table(stub_broker, stub_worker):
    test_actors.echo.send(1).get_result(block=True, timeout=5_000)

    def beat():
        with db.session_scope() as session:
            return session.scalars(select(WorkerHeartbeat).where(WorkerHeartbeat.processed >= 1)).first()

    worker = wait_for(beat, timeout=5, what="a heartbeat counting the job")
    assert {"default", "email", "cleanup"} <= set(worker.queues)
    assert worker.in_flight == 0


def test_a_short_job_is_written_once_and_a_long_one_shows_running_within_linger(sqlite_url):
    writer = LedgerWriter(db.get_engine, linger=0.05)
    made = []

    def running(message_id: str):
        return lambda: made.append(message_id) or event(message_id, "running", 1, worker_id="w:1")

    writer.started("long", running("long"))
    writer.started("short", running("short"))
    writer.finished("short")
    assert writer.record(event("short", "done", 3, worker_id="w:1"), urgent=True).wait(5)

    long_row = wait_for_status("long", "running", timeout=5)
    assert long_row.worker_id == "w:1"
    assert made == ["long"]  # the short job's `running` was never even built
    assert wait_for_status("short", "done", timeout=1).worker_id == "w:1"
    writer.close()


def test_an_announced_job_is_written_running_at_once_however_short_it_has_run(sqlite_url):
    writer = LedgerWriter(db.get_engine, linger=30.0)  # unannounced, `running` would wait 30 s
    writer.started("reporting", lambda: event("reporting", "running", 1, worker_id="w:1"))
    writer.started("quiet", lambda: event("quiet", "running", 1, worker_id="w:1"))

    writer.announce("reporting")
    writer.announce("not-running-here")
    assert writer.flush(5)

    assert wait_for_status("reporting", "running", timeout=1).worker_id == "w:1"
    with db.session_scope() as session:
        assert session.scalars(select(Job.message_id)).all() == ["reporting"]
    writer.close()


def test_an_event_recorded_while_the_flusher_idles_is_written_within_linger(sqlite_url):
    writer = LedgerWriter(db.get_engine, linger=0.05)
    assert writer.record(event("first", "done", 3), urgent=True).wait(5)
    time.sleep(0.2)  # nothing pending: the flusher sleeps until woken

    writer.record(event("later", "enqueued", 0))

    assert wait_for_status("later", "enqueued", timeout=1).status == "enqueued"
    writer.close()


def test_a_running_event_built_late_still_counts_the_attempt_it_started(stub_broker):
    ledger = next(m for m in stub_broker.middleware if isinstance(m, Ledger))
    message = MessageProxy(test_actors.echo.message(1))

    ledger.before_process_message(stub_broker, message)
    message.options["retries"] = 1  # what Retries does once the attempt has failed

    row = wait_for_status(message.message_id, "running", timeout=2)
    assert (row.retries, row.progress) == (0, 1)
    ledger.writer.finished(message.message_id)


def test_events_from_many_threads_at_once_are_each_written_and_their_waiters_released(sqlite_url):
    writer = LedgerWriter(db.get_engine, linger=5.0, gather=0.002)
    late: list[str] = []

    def work(thread: int) -> None:
        for n in range(300):
            message_id = f"t{thread}-{n}"
            writer.started(message_id, lambda m=message_id: event(m, "running", 1))
            writer.finished(message_id)
            if not writer.record(event(message_id, "done", 3), urgent=True).wait(1):
                late.append(message_id)  # a lost wakeup leaves it waiting for the 5 s linger

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert writer.flush(5)
    writer.close()

    assert late == []
    with db.session_scope() as session:
        statuses = session.scalars(select(Job.status)).all()
    assert len(statuses) == 2_400 and set(statuses) == {"done"}


def test_a_running_event_that_cannot_be_built_is_logged_and_the_flusher_goes_on(sqlite_url, caplog):
    writer = LedgerWriter(db.get_engine, linger=0.02)

    def broken() -> dict:
        raise TypeError("cannot describe")

    writer.started("odd", broken)
    time.sleep(0.1)  # past linger: the flusher tries to announce it

    assert writer.record(event("after", "done", 3), urgent=True).wait(2)
    writer.close()
    assert "Could not describe running job odd" in caplog.text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://cdn.example/cb?user=7&token=abc123&x=2", "https://cdn.example/cb?user=7&token=***&x=2"),
        ("http://api.example/v1?api_key=zzz#top", "http://api.example/v1?api_key=***#top"),
        ("amqp://guest:hunter2@rabbit:5672/vhost", "amqp://guest:***@rabbit:5672/vhost"),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ***"),
        ("Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "Bearer ***"),
        ("Дом был невысокий, с покосившимся крыльцом.", "Дом был невысокий, с покосившимся крыльцом."),
        ("a=b, mail me at reader@example.org", "a=b, mail me at reader@example.org"),
    ],
)
def test_secrets_inside_text_values_are_redacted_whatever_their_key(text, shown):
    assert redact({"note": text}) == {"note": shown}
    assert redact([text]) == [shown]
