"""Quorum queues on the real RabbitMQ: declared as such, poison-limited by RabbitMQ itself, and a
queue of the other type refused with a clear error."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from urllib.parse import unquote, urlsplit

import pika
import pytest

import tests.support.actors as test_actors
from broker.rabbitmq import QueueTypeMismatch
from tests.conftest import REPO_ROOT, app_broker
from tests.support.ledger import wait_for, wait_for_status

pytestmark = pytest.mark.integration


def queue_types(broker_url: str) -> dict[str, str]:
    vhost = unquote(urlsplit(broker_url).path.lstrip("/"))
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "type", "--no-table-headers"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(line.split("\t") for line in listed.strip().splitlines())


@pytest.fixture
def quorum_settings(service_settings):
    return replace(service_settings, broker_queue_type="quorum", broker_delivery_limit=2)


@pytest.fixture
def quorum_broker(quorum_settings):
    with app_broker(quorum_settings) as broker:
        yield broker


def test_quorum_settings_declare_quorum_queues_that_workers_serve(
    quorum_broker, quorum_settings, start_worker
):
    start_worker(BROKER_QUEUE_TYPE="quorum", BROKER_DELIVERY_LIMIT="2")
    message_id = test_actors.echo.send(7).message_id

    assert wait_for_status(message_id, "done").result == 7
    types = queue_types(quorum_settings.broker_url)
    assert {types[name] for name in ("default", "default.DQ", "default.XQ")} == {"quorum"}


def test_a_message_redelivered_past_the_limit_is_dead_lettered_by_rabbitmq(quorum_broker, quorum_settings):
    quorum_broker.declare_queue("default", ensure=True)
    connection = pika.BlockingConnection(pika.URLParameters(quorum_settings.broker_url))
    channel = connection.channel()
    channel.confirm_delivery()
    channel.basic_publish("", "default", b"poison", pika.BasicProperties(delivery_mode=2))

    deliveries = 0
    while (got := channel.basic_get("default"))[0] is not None:
        deliveries += 1
        channel.basic_nack(got[0].delivery_tag, requeue=True)  # a worker crashing on it, again and again

    dead = wait_for(lambda: channel.basic_get("default.XQ", auto_ack=True)[2], timeout=10, what="a dead copy")
    connection.close()
    assert deliveries == 3 and dead == b"poison"  # delivered limit + 1 times, then dead-lettered


def test_a_queue_of_the_other_type_is_refused_with_what_to_do(rabbitmq_broker, service_env, quorum_broker):
    rabbitmq_broker.enqueue(test_actors.echo.message(1))  # declares `default` as a classic queue

    with pytest.raises(QueueTypeMismatch) as refused:
        quorum_broker.enqueue(test_actors.echo.message(2))
    command = [sys.executable, "-m", "broker", "send", "echo", "--args", "[3]", "-m", "tests.support.actors"]
    env = {**service_env, "BROKER_QUEUE_TYPE": "quorum"}
    cli = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True)

    assert "cannot change a queue's type in place" in str(refused.value)
    assert cli.returncode == 2 and cli.stderr.count("\n") == 1
    assert cli.stderr.startswith("Error: RabbitMQ refused to declare queue 'default' as a quorum queue")
