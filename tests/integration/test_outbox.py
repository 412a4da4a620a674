"""send_on_commit on PostgreSQL and RabbitMQ: sent only if committed, run once even if the relay dies."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import tests.support.actors as test_actors
from broker.inspect import BrokerInspector
from broker.outbox import send_on_commit, send_on_commit_with_options
from broker.relay import Relay
from broker.runtime import current_settings
from domain import db
from domain.errors import InvalidArgument
from domain.models.accounts import User
from domain.models.outbox import OutboxMessage
from tests.support.ledger import job, wait_for, wait_for_status

pytestmark = pytest.mark.integration


def unsent() -> int:
    with db.session_scope() as session:
        return session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None)))


def test_a_rolled_back_transaction_sends_nothing_and_a_committed_one_runs(rabbitmq_broker, start_worker):
    test_actors.create_tables()
    with pytest.raises(RuntimeError), db.session_scope() as session:
        session.add(User(email="a@example.org", username="a"))
        send_on_commit(session, test_actors.flaky, "rolled-back", 0)
        raise RuntimeError("the app's transaction fails")
    with db.session_scope() as session:
        session.add(User(email="b@example.org", username="b"))
        message = send_on_commit(session, test_actors.flaky, "committed", 0)

    assert Relay(rabbitmq_broker).relay_once() == 1
    start_worker()

    assert wait_for_status(message.message_id, "done").result == {"key": "committed", "attempts": 1}
    assert test_actors.attempt_times("rolled-back") == []
    assert unsent() == 0


def test_a_relay_that_dies_before_marking_its_batch_sent_still_runs_each_job_once(
    rabbitmq_broker, start_worker, monkeypatch
):
    test_actors.create_tables()
    keys = [f"job-{n}" for n in range(200)]
    with db.session_scope() as session:
        messages = [send_on_commit(session, test_actors.flaky, key, 0) for key in keys]
    dying = Relay(rabbitmq_broker, batch_size=150)

    def die(session):
        raise ConnectionError("relay killed after publishing, before its COMMIT")

    monkeypatch.setattr(dying, "mark_sent", die)
    with pytest.raises(ConnectionError):
        dying.relay_once()  # 150 published, none marked sent
    assert unsent() == 200
    healthy = Relay(rabbitmq_broker, batch_size=150)
    assert healthy.relay_once() + healthy.relay_once() == 200  # the 150 again, then the other 50
    with BrokerInspector(current_settings().broker_url) as inspector:
        assert inspector.queue_counts("default").ready == 350  # 150 jobs are in the queue twice

    start_worker(threads=8)
    for message in messages:
        wait_for_status(message.message_id, "done")
    assert all(len(test_actors.attempt_times(key)) == 1 for key in keys)  # 350 delivered, 200 ran
    assert unsent() == 0
    assert all(job(m.message_id).status == "done" for m in messages[:150])


def test_send_on_commit_checks_arguments_and_a_delay_counts_from_the_commit(rabbitmq_broker, start_worker):
    test_actors.create_tables()
    with pytest.raises(InvalidArgument, match="Arguments do not fit"), db.session_scope() as session:
        send_on_commit(session, test_actors.echo, 1, 2)
    with db.session_scope() as session:
        delayed = send_on_commit_with_options(session, test_actors.echo, args=[7], delay=1500)

    Relay(rabbitmq_broker).relay_once()
    assert wait_for(lambda: job(delayed.message_id), what="the ledger row").status == "delayed"
    start_worker()
    row = wait_for_status(delayed.message_id, "done")
    assert row.result == 7 and (row.started_at - row.enqueued_at).total_seconds() >= 1.4


@pytest.mark.parametrize(
    "forged_options",
    [{"outbox_publication": "1.1.guess"}, {"outbox_publication": "1.1.guess", "outbox_secret": "guess"}],
)
def test_a_forged_publication_naming_a_committed_row_cannot_claim_it(
    service_settings, rabbitmq_broker, start_worker, forged_options
):
    test_actors.create_tables()
    with db.session_scope() as session:
        message = send_on_commit(session, test_actors.flaky, "real", 0)
    with db.session_scope() as session:
        row_id = session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.message_id == message.message_id)
        )
    forged = test_actors.flaky.message_with_options(args=("forged", 0), outbox_id=row_id, **forged_options)
    rabbitmq_broker.enqueue(forged)  # published first, with any token it likes
    start_worker()
    wait_for(lambda: job(forged.message_id) and job(forged.message_id).status in ("dead", "skipped"))

    assert Relay(rabbitmq_broker).relay_once() == 1
    assert wait_for_status(message.message_id, "done").result == {"key": "real", "attempts": 1}
    assert test_actors.attempt_times("forged") == []
