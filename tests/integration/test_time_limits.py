"""Soft and hard time limits on real worker processes."""

from __future__ import annotations

import time

from sqlalchemy import func, select

import tests.support.actors as test_actors
from tests.support.ledger import wait_for, wait_for_status


def attempts(key: str) -> int:
    from domain import db

    with db.session_scope() as session:
        table = test_actors.attempts
        return session.scalar(select(func.count()).select_from(table).where(table.c.key == key))


def test_a_soft_limit_lets_the_job_clean_up_and_it_is_dead_once(rabbitmq_broker, start_worker):
    test_actors.create_tables()
    start_worker(processes=1, threads=2)

    message = test_actors.soft_limited.send("soft")
    job = wait_for_status(message.message_id, "dead", timeout=30)

    assert job.error_type == "SoftTimeLimitExceeded"
    assert (attempts("soft"), attempts("soft:cleaned up")) == (1, 1)
    assert 400 <= job.duration_ms < 5000


def test_a_job_stuck_in_a_c_call_is_killed_at_its_hard_limit_with_only_its_process(
    rabbitmq_broker, start_worker
):
    test_actors.create_tables()
    worker = start_worker(processes=2, threads=1)
    before = worker.child_pids()

    stuck = test_actors.stuck_in_c.send("stuck", 120)
    job = wait_for_status(stuck.message_id, "dead", timeout=40)
    wait_for(
        lambda: len(worker.child_pids()) == 2 and worker.child_pids() != before, timeout=30, what="a restart"
    )
    after = worker.child_pids()
    later = test_actors.echo.send(3)
    wait_for_status(later.message_id, "done", timeout=30)
    time.sleep(3)  # RabbitMQ has redelivered the killed job by now: it must not run again

    assert job.error_type == "HardTimeLimit" and "hard time limit" in job.error_message
    assert len(before & after) == 1  # one process replaced, the other kept consuming
    assert (attempts("stuck"), attempts("stuck:returned")) == (1, 0)
    assert wait_for_status(stuck.message_id, "dead").duplicates_suppressed == 1
