"""Copies of a job that may already have run ask the ledger first: finished jobs never run again."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

import tests.support.actors as test_actors
from dashboard.app import create_app
from tests.conftest import app_broker
from tests.integration.test_bad_input import publish
from tests.support.effects import runs_per_message
from tests.support.fault_proxy import FaultProxy, through
from tests.support.ledger import job, wait_for, wait_for_status

pytestmark = pytest.mark.integration


def flagged_copy(message) -> bytes:
    """`message`'s body as its sender would publish it again after a lost confirm."""
    body = message.asdict()
    body["options"] = {**body["options"], "possible_duplicate": True}
    return json.dumps(body).encode()


def test_a_copy_of_a_finished_job_is_acked_unrun_and_counted(
    service_settings, rabbitmq_broker, start_worker
):
    test_actors.create_tables()
    start_worker(threads=4)
    message = test_actors.record_effect.send("once", 0.0)
    wait_for_status(message.message_id, "done")

    publish(service_settings.broker_url, "default", flagged_copy(message))

    wait_for(lambda: job(message.message_id).duplicates_suppressed == 1, what="the copy counted")
    assert runs_per_message() == {message.message_id: 1}
    with TestClient(create_app(service_settings, rabbitmq_broker), base_url="http://127.0.0.1") as client:
        metrics = client.get("/metrics").text
    assert 'bookjobs_duplicates_suppressed{actor="record_effect"} 1.0' in metrics


def test_a_copy_of_a_job_still_running_elsewhere_waits_and_then_is_dropped(
    service_settings, rabbitmq_broker, start_worker
):
    test_actors.create_tables()
    start_worker(threads=4)
    start_worker(threads=4)  # the copy may land on the other process: it must see the run there
    message = test_actors.record_effect.send("slow", 3.0)
    wait_for_status(message.message_id, "running")

    publish(service_settings.broker_url, "default", flagged_copy(message))
    time.sleep(1.5)
    assert job(message.message_id).status == "running" and runs_per_message() == {}

    wait_for_status(message.message_id, "done")
    wait_for(lambda: job(message.message_id).duplicates_suppressed == 1, timeout=30, what="the copy dropped")
    assert runs_per_message() == {message.message_id: 1}


def test_a_publish_whose_confirm_is_lost_goes_again_as_a_flagged_copy_and_the_job_runs_once(
    service_settings, start_worker
):
    """The publish reaches the queue, the confirm never reaches the sender, the connection drops:
    the sender publishes again (a second copy in the queue), and still the job runs once."""
    parts = urlsplit(service_settings.broker_url)
    proxy = FaultProxy(parts.hostname, parts.port or 5672)
    proxied = replace(service_settings, broker_url=through(service_settings.broker_url, proxy))
    try:
        with app_broker(proxied) as broker:
            test_actors.create_tables()
            broker.enqueue(test_actors.record_effect.message("warm-up"))  # connected, queue declared
            proxy.drop_replies()
            threading.Timer(1.0, lambda: (proxy.restore(), proxy.cut())).start()
            sent = test_actors.record_effect.message("confirm-lost")
            published = broker.enqueue(sent)
            assert proxy.connections_made == 2  # the second publish went on a new connection
            assert published.options.get("possible_duplicate") and sent.options.get("possible_duplicate")
    finally:
        proxy.close()

    start_worker(threads=4)
    wait_for(lambda: job(sent.message_id).duplicates_suppressed == 1, timeout=30, what="the copy dropped")
    assert runs_per_message()[sent.message_id] == 1


def test_a_copy_delivered_before_its_twin_waits_for_the_twin_and_the_job_runs_once(
    service_settings, rabbitmq_broker, start_worker
):
    """A resent copy can reach a worker before the first publish it repeats (another consumer, a
    leader change): the copy must not run while its unchecked twin may still be waiting."""
    test_actors.create_tables()
    message = test_actors.record_effect.message("twin")
    rabbitmq_broker.declare_queue("default", ensure=True)
    # The copy first in line (a higher priority than the queue's default, which the twin gets).
    publish(service_settings.broker_url, "default", flagged_copy(message), priority=9)
    rabbitmq_broker.enqueue(message)  # then its twin: a fresh delivery, run without a check
    start_worker(threads=1)

    wait_for(lambda: job(message.message_id).duplicates_suppressed == 1, timeout=30, what="the copy dropped")
    assert runs_per_message() == {message.message_id: 1}
