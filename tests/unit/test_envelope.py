"""The boundary check of delivered bodies, without services: what passes, and what each fault says."""

from __future__ import annotations

import re
import time

import pytest

from broker.envelope import InvalidEnvelope, _find_fault, _plainly_valid, check_envelope

NOW = int(time.time() * 1000)


def body(**changes) -> dict:
    fields = {
        "queue_name": "default",
        "actor_name": "echo",
        "args": [1, "два", None],
        "kwargs": {"flag": True},
        "options": {"max_retries": 3},
        "message_id": "0b9f3c1e-6a51-4a1e-9d77-3f1f2b8c4d10",
        "message_timestamp": NOW,
    }
    fields.update(changes)
    return fields


VALID = [
    body(),
    body(options={}),
    body(options={"eta": NOW + 5000, "retries": 2, "broker_priority": 10, "redis_message_id": "x"}),
    body(args=[{"nested": [1, {"deeper": []}]}], kwargs={"context": {"body": "текст"}}),
    body(queue_name="default.DQ"),
]


@pytest.mark.parametrize("fields", VALID)
def test_well_formed_bodies_pass_whichever_path_checks_them(fields):
    queue = fields["queue_name"]
    check_envelope(fields, queue_name=queue, now_ms=NOW)
    _find_fault(fields, queue, NOW)  # the full check agrees with the quick one


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ([1, 2], "The body is a JSON array, not an object."),
        ({k: v for k, v in body().items() if k != "options"}, "The body lacks options."),
        (body(extra=1), "The body has unknown fields 'extra'."),
        (body(message_id=""), "message_id is empty."),
        (body(message_id="a\nb"), "contains control characters"),
        (body(actor_name=5), "actor_name must be a string, not number 5."),
        (body(queue_name="books"), "names queue 'books' but was delivered on 'default'"),
        (body(kwargs=[]), "kwargs must be a JSON object, not array []."),
        (body(message_timestamp=True), "message_timestamp must be whole milliseconds since 1970"),
        (body(message_timestamp=NOW / 1000), "message_timestamp must be whole milliseconds"),
        (body(message_timestamp=NOW // 1000), "between 2000 and a year from now"),
        (
            body(options={"broker_priority": 11}),
            "options.broker_priority must be a whole number from 0 to 10",
        ),
        (body(options={"max_retries": -1}), "options.max_retries must be a whole number"),
        (body(options={"eta": "soon"}), "options.eta must be milliseconds since 1970"),
        (body(options={"outbox_id": "1"}), "options.outbox_id must be a whole number"),
    ],
)
def test_each_fault_is_named(fields, reason):
    queue = "default"
    assert not _plainly_valid(fields, queue, NOW)
    with pytest.raises(InvalidEnvelope, match=re.escape(reason)):
        check_envelope(fields, queue_name=queue, now_ms=NOW)


def test_a_body_nested_past_the_limit_is_refused_without_recursion():
    deep: dict = {}
    for _ in range(100_000):
        deep = {"a": deep}
    with pytest.raises(InvalidEnvelope, match="nests deeper than 64 levels"):
        check_envelope(body(kwargs=deep), queue_name="default", now_ms=NOW)
