"""Bodies published with plain pika, as any outside publisher could: none may stop a worker.

Every malformed body is dead-lettered with a ledger row saying why; every good job around it runs
exactly once (counted per run, not per message id); no thread or consumer dies, and every worker
process still acks.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
from dramatiq.common import xq_name
from sqlalchemy import func, select

import tests.support.actors as test_actors
from broker.inspect import BrokerInspector
from broker.send_many import send_many
from domain import db
from domain.models.jobs import Job
from tests.integration.test_bad_input import publish
from tests.support.effects import effects, extra_runs, runs_per_message
from tests.support.ledger import wait_for

pytestmark = pytest.mark.integration


DELETE = object()


def body(**changes) -> bytes:
    """A `record_effect` message body on `default`, with `changes` applied (None deletes a field)."""
    fields = {
        "queue_name": "default",
        "actor_name": "record_effect",
        "args": ["poison", 0.0],
        "kwargs": {},
        "options": {},
        "message_id": str(uuid.uuid4()),
        "message_timestamp": int(time.time() * 1000),
    }
    fields.update(changes)
    return json.dumps({k: v for k, v in fields.items() if v is not DELETE}).encode()


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


#: Each poison body and the words its ledger row must give as the reason.
POISON = [
    (body(message_id=None), "message_id must be a string, not null"),
    (body(message_id="x" * 64 + "-one"), "message_id is 68 characters long; at most 64"),
    (body(message_id="x" * 64 + "-two"), "message_id is 68 characters long; at most 64"),
    (body(options={"broker_priority": "high"}), "broker_priority must be a whole number from 0 to 10"),
    (body(options={"broker_priority": 10**12}), "broker_priority must be a whole number from 0 to 10"),
    (body(options=5), "options must be a JSON object, not number 5"),
    (body(queue_name="not_consumed_here"), "names queue 'not_consumed_here' but was delivered on 'default'"),
    (body(kwargs={"deep": nested(900)}), "nests deeper than 64 levels"),
    (body(message_timestamp="yesterday"), "message_timestamp must be whole milliseconds"),
    (body(message_timestamp=10**15), "is not a time in milliseconds between 2000 and a year from now"),
    (body(options={"retries": "3"}), "options.retries must be a whole number"),
    (body(message_id=DELETE), "The body lacks message_id"),
    (body(args={"not": "a list"}), "args must be a JSON array, not object"),
]


def test_poison_bodies_are_dead_lettered_with_reasons_and_every_good_job_runs_exactly_once(
    service_settings, rabbitmq_broker, start_worker
):
    test_actors.create_tables()
    url = service_settings.broker_url
    worker = start_worker(processes=2, threads=8)
    first = send_many(test_actors.record_effect, [[f"before{n}", 0.0] for n in range(500)])
    for poison, _reason in POISON * 2:  # twice: 16 threads each could have died on one
        publish(url, "default", poison)
    second = send_many(test_actors.record_effect, [[f"after{n}", 0.0] for n in range(500)])
    sent = [m.message_id for m in first + second]

    wait_for(lambda: effects() >= set(sent), timeout=60, interval=0.5, what="every good effect")
    assert effects() == set(sent)
    assert extra_runs() == 0, runs_per_message()
    with db.session_scope() as session:
        good = select(Job.status, func.count()).where(Job.message_id.in_(sent)).group_by(Job.status)
        assert dict(session.execute(good).all()) == {"done": len(sent)}
        rejected = select(Job.error_message).where(Job.actor_name == "(unreadable message)")
        reasons = list(session.scalars(rejected))
    for _poison, reason in POISON:
        assert any(reason in found for found in reasons), (reason, reasons)
    with BrokerInspector(url) as inspector:
        assert inspector.message_count("default")[1] == 2  # both processes still consume
        dead = wait_for(lambda: inspector.message_count(xq_name("default"))[0] == 2 * len(POISON) or None)
        assert dead
    assert worker.process.poll() is None
    worker.stop()
    with BrokerInspector(url) as inspector:
        assert inspector.message_count("default")[0] == 0  # everything was acked, nothing came back
