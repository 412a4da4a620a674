"""dramatiq #545 closed: a retry that cannot be published is tried again, and never acked away."""

from __future__ import annotations

import dramatiq
import pytest
from dramatiq.errors import ConnectionClosed

import tests.support.actors as test_actors
from broker.middleware import Retries
from tests.support.ledger import wait_for, wait_for_status

pytestmark = pytest.mark.integration


@pytest.fixture
def failing_retry_publishes(rabbitmq_broker, monkeypatch):
    """Make the next `n` publishes of a retry fail as if the broker connection had dropped."""
    real_enqueue = rabbitmq_broker.enqueue
    state = {"left": 0, "failed": 0}

    def enqueue(message, *, delay=None):
        if message.options.get("retries") and state["left"]:
            state["left"] -= 1
            state["failed"] += 1
            raise ConnectionClosed(OSError("connection reset by the test"))
        return real_enqueue(message, delay=delay)

    monkeypatch.setattr(rabbitmq_broker, "enqueue", enqueue)
    retries = next(m for m in rabbitmq_broker.middleware if isinstance(m, Retries))
    monkeypatch.setattr(retries, "enqueue_backoff", (0.05, 0.1, 0.2))

    def arm(n: int) -> dict:
        state["left"] = n
        return state

    return arm


@pytest.fixture
def in_process_worker(rabbitmq_broker):
    test_actors.create_tables()
    worker = dramatiq.Worker(rabbitmq_broker, worker_threads=2, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop()


def test_a_retry_whose_publish_fails_twice_is_published_on_the_third_try_and_runs(
    failing_retry_publishes, in_process_worker
):
    state = failing_retry_publishes(2)

    message = test_actors.flaky.send("retry-545", 1)

    row = wait_for_status(message.message_id, "done", timeout=30)
    assert row.retries == 1 and row.result == {"key": "retry-545", "attempts": 2}
    assert state["failed"] == 2


def test_a_retry_that_cannot_be_published_at_all_is_dead_lettered_with_the_reason_not_lost(
    failing_retry_publishes, in_process_worker, rabbitmq_broker
):
    failing_retry_publishes(100)

    message = test_actors.flaky.send("retry-545-down", 1)

    row = wait_for_status(message.message_id, "dead", timeout=30)
    assert row.error_type == "RetryNotEnqueued"
    assert "could not be enqueued (ConnectionClosed" in row.error_message
    assert "Attempt 1 of 'retry-545-down' failed on purpose" in row.traceback  # the original error too
    from broker.inspect import BrokerInspector
    from broker.runtime import current_settings

    with BrokerInspector(current_settings().broker_url) as inspector:
        assert wait_for(lambda: inspector.queue_counts("default").dead == 1, what="the dead letter")
