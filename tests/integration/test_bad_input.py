"""Bad input published straight to RabbitMQ: each one dead-lettered with its reason, the worker unharmed."""

from __future__ import annotations

import json
import time
import uuid

import pika
import pytest
from dramatiq.common import xq_name

import tests.support.actors as test_actors
from broker.factory import with_amqp_defaults
from broker.inspect import BrokerInspector
from domain import db
from domain.errors import InvalidArgument
from domain.models.jobs import Job
from tests.support.ledger import job, wait_for, wait_for_status

pytestmark = pytest.mark.integration
LIMIT = 4096


def dramatiq_body(actor: str, args: list, queue: str = "default", **kwargs) -> tuple[str, bytes]:
    message_id = str(uuid.uuid4())
    body = {
        "queue_name": queue,
        "actor_name": actor,
        "args": args,
        "kwargs": kwargs,
        "options": {},
        "message_id": message_id,
        "message_timestamp": 1_700_000_000_000,
    }
    return message_id, json.dumps(body).encode()


def publish(url: str, queue: str, body: bytes, priority: int | None = None, timeout: float = 20.0) -> None:
    """`body` published with plain pika and confirms, as any other client would, once `queue` exists.

    A worker declares its queues a moment after its heartbeat shows, and RabbitMQ drops a body sent
    to a queue not yet declared: `mandatory` makes that an error, and the body is sent again.
    """
    deadline = time.monotonic() + timeout
    while True:
        connection = pika.BlockingConnection(pika.URLParameters(with_amqp_defaults(url)))
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            properties = pika.BasicProperties(delivery_mode=2, priority=priority)
            channel.basic_publish("", queue, body, properties, mandatory=True)
            return
        except pika.exceptions.UnroutableError:
            if time.monotonic() > deadline:
                raise AssertionError(f"Queue {queue!r} was not declared within {timeout} s.") from None
            time.sleep(0.1)
        finally:
            connection.close()


def test_every_kind_of_bad_message_is_dead_lettered_with_its_reason_and_good_ones_still_run(
    service_settings, rabbitmq_broker, start_worker
):
    test_actors.create_tables()
    start_worker(MAX_MESSAGE_BYTES=str(LIMIT))
    url = service_settings.broker_url
    unknown_id, unknown = dramatiq_body("no_such_actor", [1])
    mistyped_id, mistyped = dramatiq_body("echo", ["forty-one"])
    extra_id, extra = dramatiq_body("echo", [1, 2])
    missing_id, missing = dramatiq_body("process_book", [987654], queue="books")
    _, oversized = dramatiq_body("echo", [1], padding="x" * (LIMIT * 2))

    for queue, body in [
        ("default", b"this is not json"),
        ("default", b"\x00\x01 binary, with a NUL PostgreSQL cannot store"),
        ("default", b'{"queue_name": "default"}'),
        ("default", unknown),
        ("default", mistyped),
        ("default", extra),
        ("default", oversized),
        ("books", missing),
    ]:
        publish(url, queue, body)
    good = test_actors.echo.send(41)
    nul = test_actors.echo_text.send("before\x00after")

    assert wait_for_status(good.message_id, "done").result == 41  # the worker kept serving
    assert wait_for_status(nul.message_id, "done").result == "before\ufffdafter"
    reasons = {
        unknown_id: "no_such_actor",
        mistyped_id: "Argument 'value' of echo must be int, not str 'forty-one'",
        extra_id: "Arguments do not fit echo(value: 'int')",
        missing_id: "Book 987654 not found.",
    }
    for message_id, reason in reasons.items():
        row = wait_for_status(message_id, "dead")
        assert reason in row.error_message, (message_id, row.error_message)
        assert row.retries == 0

    def rejected() -> list[Job]:
        with db.session_scope() as session:
            return list(session.query(Job).filter(Job.actor_name == "(unreadable message)"))

    rows = wait_for(lambda: len(rejected()) == 4 and rejected(), what="four rejected bodies in the ledger")
    messages = sorted(row.error_message for row in rows)
    assert any("exceeds MAX_MESSAGE_BYTES=4096" in m for m in messages)
    assert sum("Not a dramatiq message" in m for m in messages) == 2
    lacks = "The body lacks actor_name, args, kwargs, message_id, message_timestamp, options"
    assert any(lacks in m for m in messages)
    assert any(row.options["first_bytes"].startswith("\ufffd\x01 binary") for row in rows)
    with BrokerInspector(url) as inspector:
        assert wait_for(lambda: inspector.message_count(xq_name("default"))[0] == 7, what="7 dead letters")
    assert job(good.message_id).status == "done"


def test_send_refuses_a_message_over_the_size_limit_naming_both_numbers(rabbitmq_broker):
    with pytest.raises(InvalidArgument, match=r"is \d+ bytes, over MAX_MESSAGE_BYTES=1048576"):
        test_actors.echo.send("x" * 1_100_000)
