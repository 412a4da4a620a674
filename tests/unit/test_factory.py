"""One broker from one URL, with the middleware in one visible order."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Retries, TimeLimit
from dramatiq.results import Results

from broker.factory import build_broker, cluster_urls
from broker.middleware import Heartbeats, Ledger, QueueDefaults
from broker.middleware.ledger import AckMode
from broker.rabbitmq import DeferredAckConsumer, LedgerRabbitmqBroker
from broker.settings import Settings


def names(broker) -> list[str]:
    return [type(m).__name__ for m in broker.middleware]


def test_amqp_gives_rabbitmq_with_confirms_priorities_heartbeats_and_deferred_acks():
    broker = build_broker(Settings(broker_url="amqp://guest:guest@rabbit:5672/jobs"))

    assert isinstance(broker, LedgerRabbitmqBroker)
    assert broker.confirm_delivery is True
    assert broker.max_priority == 10
    [parameters] = broker.parameters
    assert parameters.heartbeat == 30 and parameters.virtual_host == "jobs"
    assert broker.consumer_class is DeferredAckConsumer
    ledger = next(m for m in broker.middleware if isinstance(m, Ledger))
    assert ledger.ack_mode == AckMode.DEFER


def test_a_cluster_url_lists_every_node_and_processes_start_at_different_ones():
    url = "amqp://guest:guest@n1:5672/;amqp://guest:guest@n2:5672/;amqp://guest:guest@n3:5672/"

    orders = [[urlsplit(u).hostname for u in cluster_urls(url, rotate=pid)] for pid in (30, 31, 32)]
    broker = build_broker(Settings(broker_url=url, broker_queue_type="quorum"))

    assert orders == [["n1", "n2", "n3"], ["n2", "n3", "n1"], ["n3", "n1", "n2"]]
    assert [p.heartbeat for p in broker.parameters] == [30, 30, 30]
    assert broker.max_priority is None and broker._build_queue_arguments("books") == {
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "books.XQ",
        "x-queue-type": "quorum",
        "x-delivery-limit": 20,
    }


def test_redis_and_memory_urls_give_their_brokers():
    assert isinstance(build_broker(Settings(broker_url="redis://127.0.0.1:6379/0")), RedisBroker)
    memory = build_broker(Settings(broker_url="memory://"))
    assert isinstance(memory, StubBroker)
    assert next(m for m in memory.middleware if isinstance(m, Ledger)).ack_mode == AckMode.WAIT


def test_the_ledger_observes_first_so_it_sees_the_outcome_after_retries_decided():
    broker = build_broker(Settings())
    order = names(broker)

    assert order[:4] == ["QueueDefaults", "Ledger", "Heartbeats", "Cancellation"]
    assert order.index("Retries") > order.index("Ledger")
    for required in (
        "AgeLimit",
        "TimeLimit",
        "ShutdownNotifications",
        "Callbacks",
        "Pipelines",
        "Retries",
        "CurrentMessage",
        "Results",
        "PeriodicOption",
    ):
        assert required in order
    assert any(isinstance(m, Results) for m in broker.middleware)
    assert any(isinstance(m, TimeLimit) for m in broker.middleware)
    assert any(isinstance(m, Retries) for m in broker.middleware)
    assert any(isinstance(m, QueueDefaults) for m in broker.middleware)
    assert any(isinstance(m, Heartbeats) for m in broker.middleware)


def test_ledger_off_removes_the_ledger_and_durable_ack_off_acks_at_once():
    assert "Ledger" not in names(build_broker(Settings(ledger_enabled=False)))
    broker = build_broker(Settings(broker_url="amqp://h/", ledger_durable_ack=False))
    assert next(m for m in broker.middleware if isinstance(m, Ledger)).ack_mode == AckMode.OFF


@pytest.mark.parametrize(("queues", "warmed"), [(None, True), ({"books", "email"}, True), ({"email"}, False)])
def test_workers_that_consume_books_load_the_nlp_models_at_boot_and_others_never(queues, warmed):
    import threading
    from types import SimpleNamespace

    from broker.middleware import Warmup

    called = threading.Event()
    warmup = Warmup(queue_name="books", warm=called.set)

    warmup.after_worker_boot(None, SimpleNamespace(consumer_whitelist=queues))

    assert called.wait(2) is warmed
