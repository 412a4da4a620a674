"""Queue priorities: a job of a high-priority queue overtakes a backlog the worker already holds."""

from __future__ import annotations

from sqlalchemy import select

import tests.support.actors as test_actors
from broker.ledger import Job
from domain import db
from tests.support.ledger import wait_for, wait_for_status


def started_at(actor_name: str) -> list:
    with db.session_scope() as session:
        return list(session.scalars(select(Job.started_at).where(Job.actor_name == actor_name)))


def test_a_mail_overtakes_a_default_queue_backlog_the_worker_already_holds(rabbitmq_broker, start_worker):
    test_actors.create_tables()
    backlog = [test_actors.slow_effect.send(f"b{i}", 0.1).message_id for i in range(40)]
    start_worker(processes=1, threads=1)  # one thread holds up to 25 `default` jobs (prefetch)
    wait_for(lambda: len(started_at("slow_effect")) >= 2, timeout=30, what="the backlog to start")

    urgent = test_actors.urgent.send(7)
    job = wait_for_status(urgent.message_id, "done", timeout=30)
    wait_for_status(backlog[-1], "done", timeout=60)

    with db.session_scope() as session:
        message = session.get(Job, urgent.message_id)
        assert message.priority == 8  # the email queue's default, sent without one
    later = [moment for moment in started_at("slow_effect") if moment > job.started_at]
    # In arrival order it would wait for every prefetched `default` job (25); by priority it runs
    # next, after the one running when it came (and at most one more the worker had taken).
    assert len(later) >= 35, len(later)


def test_an_explicit_priority_wins_over_the_queues_default(rabbitmq_broker):
    sent = test_actors.urgent.send_with_options(args=(1,), broker_priority=1)
    plain = test_actors.echo.send(2)

    assert (sent.options["broker_priority"], plain.options["broker_priority"]) == (1, 5)
