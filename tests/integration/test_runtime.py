"""A job's whole life on the real RabbitMQ and PostgreSQL, with real worker processes."""

from __future__ import annotations

import subprocess
import uuid
from datetime import timedelta
from urllib.parse import unquote, urlsplit

import pytest
from dramatiq.results import ResultFailure
from sqlalchemy import select

from broker.inspect import BrokerInspector
from domain import db
from domain.models.jobs import Job
from tests.support import actors as test_actors
from tests.support.ledger import count_by_status, job, wait_for, wait_for_status

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def attempts_table(postgres_url):
    test_actors.create_tables()


def key() -> str:
    return uuid.uuid4().hex


def test_job_sent_from_an_app_runs_in_a_real_worker_and_its_result_reads_back(rabbitmq_broker, start_worker):
    worker = start_worker(processes=1, threads=2)
    message = test_actors.echo.send(42)

    assert message.get_result(block=True, timeout=15_000) == 42
    row = wait_for_status(message.message_id, "done")
    assert row.result == 42
    assert row.actor_name == "echo" and row.queue_name == "default"
    assert int(row.worker_id.rsplit(":", 1)[1]) in worker.child_pids()
    assert row.enqueued_at <= row.started_at <= row.finished_at
    assert row.duration_ms is not None and row.duration_ms >= 0


def test_a_transient_error_retries_with_growing_delays_then_succeeds(rabbitmq_broker, start_worker):
    start_worker()
    name = key()
    message = test_actors.flaky.send(name, 2)

    assert message.get_result(block=True, timeout=30_000) == {"key": name, "attempts": 3}
    row = wait_for_status(message.message_id, "done")
    assert row.retries == 2
    assert row.error_type == "TransientError"  # the last failure stays visible after the success
    first, second, third = test_actors.attempt_times(name)
    # min_backoff is 200 ms: the n-th retry waits at least 200 ms × 2ⁿ (dramatiq adds up to 100 % jitter).
    assert second - first >= timedelta(milliseconds=200)
    assert third - second >= timedelta(milliseconds=400)


def test_a_permanent_error_is_dead_lettered_at_once_with_its_reason(
    rabbitmq_broker, start_worker, service_settings
):
    start_worker()
    name = key()
    message = test_actors.permanent_failure.send(name)

    row = wait_for_status(message.message_id, "dead")
    assert row.error_type == "PermanentError"
    assert row.error_message == f"Book {name!r} not found."
    assert "PermanentError" in row.traceback
    assert len(test_actors.attempt_times(name)) == 1
    with BrokerInspector(service_settings.broker_url) as inspector:
        assert wait_for(lambda: inspector.queue_counts("default").dead == 1, what="one dead letter")
    with pytest.raises(ResultFailure, match="not found"):
        message.get_result(block=True, timeout=5_000)


def test_exhausted_retries_end_dead(rabbitmq_broker, start_worker):
    start_worker()
    name = key()
    message = test_actors.always_transient.send(name)

    row = wait_for_status(message.message_id, "dead", timeout=30)
    assert len(test_actors.attempt_times(name)) == 3  # the first try and max_retries=2 retries
    assert row.error_type == "TransientError" and row.retries == 2


def test_a_job_over_its_time_limit_is_stopped_and_recorded(rabbitmq_broker, start_worker):
    start_worker()
    name = key()
    message = test_actors.oversleeper.send(name, 10)

    row = wait_for_status(message.message_id, "dead", timeout=10)
    assert row.error_type == "TimeLimitExceeded"
    assert row.duration_ms < 5_000
    assert len(test_actors.attempt_times(name)) == 1


def test_a_delayed_job_is_delayed_in_the_ledger_until_it_runs(rabbitmq_broker, start_worker):
    start_worker()
    message = test_actors.echo.send_with_options(args=(7,), delay=2_000)

    row = wait_for_status(message.message_id, "delayed", timeout=5)
    assert row.eta is not None and row.eta - row.enqueued_at >= timedelta(milliseconds=1_900)
    assert job(message.message_id).status == "delayed"
    done = wait_for_status(message.message_id, "done", timeout=15)
    assert done.started_at >= row.eta - timedelta(milliseconds=100)
    assert done.result == 7


def test_a_worker_killed_mid_job_loses_nothing_the_job_runs_again_and_ends_done(
    rabbitmq_broker, start_worker
):
    first = start_worker()
    name = key()
    message = test_actors.slow_effect.send(name, 2.0)
    running = wait_for_status(message.message_id, "running", timeout=10)
    first_pid = int(running.worker_id.rsplit(":", 1)[1])

    first.kill()
    start_worker()

    row = wait_for_status(message.message_id, "done", timeout=30)
    assert int(row.worker_id.rsplit(":", 1)[1]) != first_pid
    assert row.result == {"key": name, "attempts": 1}
    assert len(test_actors.attempt_times(name)) == 1


def test_two_thousand_jobs_through_two_worker_processes_are_each_recorded_done_once(
    rabbitmq_broker, start_worker
):
    start_worker(processes=2, threads=8)
    sent = [test_actors.echo.send(i).message_id for i in range(2_000)]

    wait_for(lambda: count_by_status("done") >= 2_000, timeout=60, what="2,000 done jobs")
    with db.session_scope() as session:
        rows = session.execute(
            select(Job.message_id, Job.result, Job.worker_id).where(Job.status == "done")
        ).all()
    assert sorted(r.message_id for r in rows) == sorted(sent)
    assert sorted(r.result for r in rows) == list(range(2_000))
    assert len({r.worker_id for r in rows}) == 2


def test_sigterm_mid_run_finishes_or_hands_back_every_job_and_none_runs_twice(
    rabbitmq_broker, start_worker, service_settings
):
    worker = start_worker(processes=1, threads=4)
    names = [key() for _ in range(300)]
    for name in names:
        test_actors.slow_effect.send(name, 0.02)
    wait_for(lambda: count_by_status("done") >= 50, timeout=30, what="50 jobs done")

    worker.stop()

    done = count_by_status("done")
    with BrokerInspector(service_settings.broker_url) as inspector:
        ready = inspector.queue_counts("default").ready
    assert done + ready == 300
    with db.session_scope() as session:
        attempts = session.execute(select(test_actors.attempts.c.key)).scalars().all()
    assert len(attempts) == len(set(attempts)) == done


def test_batched_acks_settle_every_job_and_dead_letter_exactly_the_failed_ones(
    rabbitmq_broker, start_worker, service_settings
):
    """Acks go out in `multiple` batches after each ledger commit; a failure among them is still
    dead-lettered alone, and no job is left unacked or acked twice."""
    worker = start_worker(processes=1, threads=8)
    failing = {f"fail-{i}" for i in range(0, 1_000, 9)}
    for i in range(1_000):
        if f"fail-{i}" in failing:
            test_actors.permanent_failure.send(f"fail-{i}")
        else:
            test_actors.echo.send(i)

    wait_for(
        lambda: count_by_status("done") + count_by_status("dead") >= 1_000, timeout=60, what="1,000 jobs"
    )
    assert count_by_status("dead") == len(failing)

    def settled() -> bool:
        with BrokerInspector(service_settings.broker_url) as inspector:
            counts = inspector.queue_counts("default")
        return counts.ready == 0 and counts.dead == len(failing)

    wait_for(settled, timeout=10, what="an empty queue and every failure dead-lettered")
    worker.stop()  # anything it left unacked would now go back to the queue
    assert settled()
    with db.session_scope() as session:
        failed_keys = session.execute(select(test_actors.attempts.c.key)).scalars().all()
    assert sorted(failed_keys) == sorted(failing)


def consumer_prefetch(broker_url: str) -> dict[str, set[int]]:
    """Each queue's consumers' prefetch counts, as RabbitMQ reports them."""
    vhost = unquote(urlsplit(broker_url).path.lstrip("/"))
    command = ["rabbitmqctl", "-q", "--no-table-headers", "list_consumers", "-p", vhost]
    listed = subprocess.run(
        [*command, "queue_name", "prefetch_count"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    prefetch: dict[str, set[int]] = {}
    for line in listed.splitlines():
        queue, count = line.split("\t")
        prefetch.setdefault(queue, set()).add(int(count))
    return prefetch


def test_a_real_worker_prefetches_each_queue_by_its_policy_unless_told_otherwise(
    rabbitmq_broker, start_worker, service_settings
):
    start_worker(threads=3, queues=("email", "books"))

    by_policy = consumer_prefetch(service_settings.broker_url)
    assert by_policy["email"] == {75}  # short jobs: 25 per thread
    assert by_policy["books"] == {6}  # long jobs: dramatiq's 2 per thread
    assert by_policy["email.DQ"] == {3_000}  # delay queues: dramatiq's own window

    start_worker(threads=3, queues=("email", "books"), options=("--prefetch", "7"))

    both = consumer_prefetch(service_settings.broker_url)
    assert both["email"] == {75, 7}
    assert both["books"] == {6, 7}


def test_a_real_worker_hands_the_gil_around_every_10_ms_unless_configured(rabbitmq_broker, start_worker):
    start_worker()
    assert test_actors.switch_interval.send().get_result(block=True, timeout=10_000) == 0.01

    start_worker(BOOKJOBS_GIL_SWITCH_MS="5", queues=("default",))
    intervals = {test_actors.switch_interval.send().get_result(block=True, timeout=10_000) for _ in range(40)}
    assert intervals == {0.01, 0.005}  # both workers consume `default`; each keeps its own setting
