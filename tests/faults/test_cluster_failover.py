"""A three-node RabbitMQ cluster with quorum queues loses the node leading the queue mid-drain,
twice (a clean stop, then a crash): every job runs once, nothing is lost, nothing runs again."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import select

import tests.support.actors as test_actors
from broker.send_many import send_many
from domain import db
from tests.conftest import app_broker
from tests.support.cluster import start_cluster, stop_cluster
from tests.support.effects import assert_each_effect_exactly_once, effects
from tests.support.ledger import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]
JOBS_BEFORE, JOBS_DURING = 8_000, 2_000


@pytest.fixture(scope="module")
def cluster():
    started = start_cluster()
    yield started
    stop_cluster(started)


@pytest.fixture
def cluster_settings(service_settings, cluster):
    nodes = ";".join(node.url for node in cluster.nodes)
    return replace(service_settings, broker_url=nodes, broker_queue_type="quorum")


@pytest.fixture
def cluster_broker(cluster_settings):
    with app_broker(cluster_settings) as broker:
        yield broker


def longest_pause(since: float) -> float:
    """The longest gap, in seconds, between two committed runs after `since` (epoch seconds)."""
    with db.session_scope() as session:
        times = sorted(at.timestamp() for at in session.scalars(select(test_actors.runs.c.at)))
    times = [t for t in times if t >= since]
    return max((later - earlier for earlier, later in itertools.pairwise(times)), default=0.0)


def test_losing_the_queue_leader_twice_mid_drain_loses_nothing_and_runs_nothing_twice(
    cluster, cluster_settings, cluster_broker, start_worker
):
    test_actors.create_tables()
    before = send_many(test_actors.record_effect, [[f"b{n}"] for n in range(JOBS_BEFORE)])
    sent = [m.message_id for m in before]
    env = {"BROKER_URL": cluster_settings.broker_url, "BROKER_QUEUE_TYPE": "quorum"}
    start_worker(processes=2, threads=8, **env)
    during: list[str] = []
    refused = 0

    def publish_during_the_faults() -> None:
        nonlocal refused
        for n in range(JOBS_DURING):
            message = test_actors.record_effect.message(f"d{n}")
            while True:  # with confirms a send either raises or is in the queue: resend the same message
                try:
                    cluster_broker.enqueue(message)
                    break
                except Exception:
                    refused += 1
                    time.sleep(0.2)
            during.append(message.message_id)
            time.sleep(0.004)

    started = time.time()
    wait_for(lambda: len(effects()) >= 2_000, timeout=120, interval=0.2, what="2,000 jobs run")
    publisher = threading.Thread(target=publish_during_the_faults)
    publisher.start()

    stopped = cluster.leader_of("default")
    stopped.stop_app()  # a clean node loss: its Raft members hand over, its clients reconnect
    wait_for(lambda: len(effects()) >= 5_000, timeout=120, interval=0.2, what="5,000 jobs run")
    stopped.start_app()
    time.sleep(5)  # the restarted member catches up before the next loss
    crashed = cluster.leader_of("default")
    crashed.kill()  # a crash: SIGKILL to the leader's VM
    publisher.join(180)

    assert not publisher.is_alive()
    for queue in ("default", "default.XQ"):  # the queues have leaders again before they are counted
        wait_for(lambda queue=queue: cluster.leader_of(queue), timeout=60, what=f"a leader of {queue}")
    assert_each_effect_exactly_once(sent + during, cluster_settings.broker_url, timeout=240)
    drained_in = time.time() - started
    print(
        f"\nquorum cluster: {JOBS_BEFORE + JOBS_DURING} jobs in {drained_in:.1f} s; leader {stopped.name} "
        f"stopped, then {crashed.name} killed; longest pause between runs {longest_pause(started):.1f} s; "
        f"{refused} sends raised and were sent again"
    )
