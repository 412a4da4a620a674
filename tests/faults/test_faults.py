"""Break things on purpose while thousands of real jobs run; every time, each effect happens exactly once.

The effect is `record_effect`: one row per message id in `test_effects` (idempotent, as every actor
here is), so a job that runs again after a fault adds nothing. The assertion is always the same:
one effect per sent message, every message `done` in the ledger, no dead letters.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pika
import pytest
from sqlalchemy import func, select

import tests.support.actors as test_actors
from broker.factory import with_amqp_defaults
from broker.inspect import BrokerInspector
from broker.send_many import BulkSendError, send_many
from domain import db
from domain.models.base import utcnow
from domain.models.jobs import Job
from domain.models.reading import ReadingSession
from tests.support.effects import assert_each_effect_exactly_once, effects, extra_runs, repeated_runs
from tests.support.fault_proxy import FaultProxy, through
from tests.support.ledger import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def proxy_for():
    """A FaultProxy in front of a service URL's host and port; closed after the test."""
    proxies: list[FaultProxy] = []

    def make(url: str, default_port: int) -> tuple[FaultProxy, str]:
        parts = urlsplit(url)
        proxy = FaultProxy(parts.hostname, parts.port or default_port)
        proxies.append(proxy)
        return proxy, through(url, proxy)

    yield make
    for proxy in proxies:
        proxy.close()


@pytest.fixture
def effects_of(rabbitmq_broker):
    test_actors.create_tables()

    def send(count: int, seconds: float) -> list[str]:
        messages = send_many(test_actors.record_effect, [[f"e{n}", seconds] for n in range(count)])
        return [m.message_id for m in messages]

    return send


def test_workers_killed_at_random_lose_nothing_and_repeat_no_effect(
    effects_of, start_worker, service_settings
):
    from actors import monitoring, reading

    with db.session_scope() as session:  # abandoned reading sessions for the real cleanup actor
        started = utcnow() - timedelta(hours=3)
        session.add_all(ReadingSession(user_id=n, book_id=1, started_at=started) for n in range(300))
    sent = effects_of(3000, 0.02)
    others = send_many(monitoring.health_check, [[]] * 100) + send_many(
        reading.close_abandoned_sessions, [[]] * 20
    )
    rng = random.Random(545)
    workers = [start_worker(processes=1, threads=4) for _ in range(2)]
    kills = 0
    while kills < 4 and len(effects()) < len(sent):
        time.sleep(rng.uniform(0.8, 1.6))
        victim = workers.pop(rng.randrange(len(workers)))
        victim.kill()  # SIGKILL to the whole process group, mid-job
        kills += 1
        workers.append(start_worker(processes=1, threads=4))

    assert kills >= 2, "the jobs finished before the faults; make them longer"
    # A process killed between a job's COMMIT and its ledger write leaves a finished job the ledger
    # cannot know of: at most one such run per thread and kill can repeat.
    assert_each_effect_exactly_once(
        sent, service_settings.broker_url, other_jobs=len(others), allowed_extra_runs=kills * 4
    )
    with db.session_scope() as session:
        still_open = session.scalar(select(func.count()).where(ReadingSession.is_active.is_(True)))
        closed = session.scalar(select(func.count()).where(ReadingSession.ended_at.is_not(None)))
    assert (still_open, closed) == (0, 300)


def test_broker_connections_cut_mid_stream_lose_nothing_and_repeat_no_effect(
    effects_of, start_worker, service_settings, proxy_for, smtp_server
):
    from actors import email

    proxy, broker_url = proxy_for(service_settings.broker_url, 5672)
    sent = effects_of(5000, 0.01)
    mails = [["reader@example.org", f"Письмо {n}", "notification", {"body": f"#{n}"}] for n in range(300)]
    send_many(email.send_email, mails)
    # The default prefetch: each cut drops hundreds of fetched messages that RabbitMQ hands out again.
    start_worker(processes=2, threads=8, BROKER_URL=broker_url, SMTP_URL=smtp_server.url)
    cuts = 0
    while cuts < 5 and len(effects()) < len(sent):
        time.sleep(1.0)
        cuts += proxy.cut() > 0
    proxy.refuse()  # and the broker stays away for two seconds
    time.sleep(2)
    proxy.restore()

    assert cuts >= 4, "the jobs finished before the faults; make them longer"
    # Runs are counted one row each: a job that finished before a cut must not run again after it.
    assert_each_effect_exactly_once(sent, service_settings.broker_url, other_jobs=len(mails))
    with db.session_scope() as session:
        suppressed = session.scalar(select(func.sum(Job.duplicates_suppressed)))
    assert suppressed > 0  # the cuts did redeliver finished jobs, and the ledger stopped them
    subjects = sorted(str(mail["Subject"]) for mail in smtp_server.accepted)
    assert subjects == sorted(f"Письмо {n}" for n in range(300))  # each mail delivered exactly once


def test_one_child_killed_is_restarted_alone_and_finished_jobs_do_not_run_again(
    effects_of, start_worker, service_settings
):
    sent = effects_of(3000, 0.01)
    worker = start_worker(processes=2, threads=4)
    wait_for(lambda: len(effects()) > 300, timeout=30, what="the first effects")
    victim, survivor = sorted(worker.child_pids())
    os.kill(victim, signal.SIGKILL)
    done_at_kill = len(effects())
    time.sleep(1)
    assert survivor in worker.child_pids() and worker.process.poll() is None  # nothing else stopped
    assert len(effects()) > done_at_kill  # the other child kept working meanwhile
    replacement = wait_for(lambda: worker.child_pids() - {survivor}, timeout=15, what="a new child")
    assert victim not in replacement

    assert_each_effect_exactly_once(sent, service_settings.broker_url, allowed_extra_runs=4)
    log = worker.log_path.read_text()
    assert f"(pid {victim}) died: killed by SIGKILL" in log
    assert "restarted as pid" in log


def test_postgresql_unreachable_for_twenty_seconds_loses_nothing_and_repeats_no_effect(
    effects_of, start_worker, service_settings, proxy_for
):
    proxy, database_url = proxy_for(service_settings.database_url, 5432)
    sent = effects_of(2000, 0.01)
    start_worker(processes=2, threads=4, DATABASE_URL=database_url)
    wait_for(lambda: len(effects()) > 200, timeout=30, what="the first effects")
    proxy.refuse()
    outage_started = len(effects())
    time.sleep(20)
    assert len(effects()) == outage_started  # nothing can happen without the database
    proxy.restore()

    assert_each_effect_exactly_once(sent, service_settings.broker_url, timeout=180)


def test_a_bulk_send_cut_mid_batch_and_resent_runs_every_job_once(
    effects_of, start_worker, service_settings, proxy_for, rabbitmq_broker
):
    proxy, proxied_url = proxy_for(service_settings.broker_url, 5672)
    direct = rabbitmq_broker.parameters
    rabbitmq_broker.parameters = pika.URLParameters(with_amqp_defaults(proxied_url))
    items = [[f"bulk{n}", 0.0] for n in range(8_000)]

    def cut_once_the_queue_fills() -> None:
        with BrokerInspector(service_settings.broker_url) as inspector:
            wait_for(lambda: (inspector.message_count("default") or (0,))[0] > 2_000, timeout=30)
        proxy.cut()

    cutter = threading.Thread(target=cut_once_the_queue_fills)
    cutter.start()
    with pytest.raises(BulkSendError) as raised:
        send_many(test_actors.record_effect, items, batch_size=8_000)
    cutter.join()
    error = raised.value
    rabbitmq_broker.parameters = direct
    resent = error.resend()

    assert len(resent) == len(error.unconfirmed)
    sent = error.confirmed + error.unconfirmed
    with BrokerInspector(service_settings.broker_url) as inspector:
        copies = inspector.message_count("default")[0] - len(sent)
    assert copies > 0, "no unconfirmed message had reached the queue before the cut; cut later"
    start_worker(processes=2, threads=8)
    assert_each_effect_exactly_once(sent, service_settings.broker_url, timeout=180)

    def suppressed() -> int:
        with db.session_scope() as session:
            return session.scalar(select(func.sum(Job.duplicates_suppressed))) or 0

    # A copy that met its job still waiting or running was deferred (1 s, then 2 s): it is checked
    # again after the effects are all in. Each second copy is acked unrun in the end, none runs.
    wait_for(lambda: suppressed() >= copies, timeout=60, interval=0.5, what=f"{copies} copies suppressed")
    assert suppressed() == copies
    assert extra_runs() == 0, repeated_runs()


def test_recycling_children_under_a_drain_loses_and_repeats_nothing(
    effects_of, start_worker, service_settings
):
    sent = effects_of(3000, 0.005)
    worker = start_worker(processes=2, threads=4, options=("--max-jobs-per-child", "300"))

    assert_each_effect_exactly_once(sent, service_settings.broker_url, timeout=180)

    def replaced() -> str | None:  # the last replacement may still be starting
        log = worker.log_path.read_text()
        done = log.count("exited; starting a fresh one") == log.count("Recycling worker process")
        return log if done else None

    log = wait_for(replaced, timeout=60, what="every recycled process replaced")
    assert log.count("Recycling worker process") >= 6, log[-3000:]  # 3,000 jobs at 300 a child
    assert "died" not in log and "Killing" not in log
    assert worker.process.poll() is None and len(worker.child_pids()) == 2
