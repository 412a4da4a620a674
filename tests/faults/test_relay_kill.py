"""`bookjobs relay` processes killed with -9 between publishing a batch and its COMMIT: each job runs once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

import tests.support.actors as test_actors
from broker.inspect import BrokerInspector
from broker.outbox import send_on_commit
from domain import db
from domain.models.outbox import OutboxMessage
from tests.conftest import REPO_ROOT
from tests.support.effects import assert_each_effect_exactly_once
from tests.support.ledger import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KILLS = 4
TRANSACTIONS = 40
PER_TRANSACTION = 75


def unsent() -> int:
    with db.session_scope() as session:
        return session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None)))


def commit_backlog() -> tuple[list[str], list[str]]:
    """What an app does: jobs sent inside its own transactions; every fourth transaction rolls back."""
    committed, rolled_back = [], []
    for t in range(TRANSACTIONS):
        keys = [f"t{t}-{n}" for n in range(PER_TRANSACTION)]
        if t % 4 == 3:
            with pytest.raises(RuntimeError), db.session_scope() as session:
                for key in keys:
                    send_on_commit(session, test_actors.record_effect, key)
                raise RuntimeError("the app's transaction fails")
            rolled_back += keys
        else:
            with db.session_scope() as session:
                messages = [send_on_commit(session, test_actors.record_effect, key) for key in keys]
            committed += [message.message_id for message in messages]
    return committed, rolled_back


def test_relays_killed_mid_batch_lose_nothing_and_run_no_job_twice(
    rabbitmq_broker, service_env, service_settings, start_worker, tmp_path
):
    test_actors.create_tables()
    committed, rolled_back = commit_backlog()
    command = [sys.executable, "-m", "broker", "relay", "--batch-size", "200", "-m", "tests.support.actors"]
    inspector = BrokerInspector(service_settings.broker_url)

    def relay(n: int) -> subprocess.Popen:
        log = (tmp_path / f"relay-{n}.log").open("w")
        output = {"stdout": log, "stderr": subprocess.STDOUT}
        return subprocess.Popen(command, env=service_env, cwd=REPO_ROOT, start_new_session=True, **output)

    def queued() -> int:
        return (inspector.message_count("default") or (0, 0))[0]

    def published_not_marked() -> bool:
        return queued() > len(committed) - unsent()

    # No worker yet, so the queue shows what was published: each relay is killed with -9 as soon as
    # a batch is in the queue but not yet marked sent, between its publish and its COMMIT.
    for n in range(KILLS):
        process = relay(n)
        wait_for(published_not_marked, timeout=30, interval=0.002, what="a batch published, not marked")
        os.killpg(process.pid, 9)
        process.wait(10)
    last = relay(KILLS)
    wait_for(lambda: unsent() == 0, timeout=60, interval=0.1, what="every committed row sent")
    copies = queued()
    assert copies > len(committed)  # the killed batches went out twice
    last.terminate()
    last.wait(20)
    inspector.close()

    worker = start_worker(processes=1, threads=8)
    assert_each_effect_exactly_once(committed, service_settings.broker_url)
    attempts = test_actors.attempts
    with db.session_scope() as session:
        runs = dict(session.execute(select(attempts.c.key, func.count()).group_by(attempts.c.key)).all())
    assert len(runs) == len(committed) and set(runs.values()) == {1}  # no job ran twice
    assert not set(runs) & set(rolled_back)  # a rolled-back transaction sent nothing
    worker.stop()  # its log is complete once it has stopped
    assert worker.log_path.read_text().count("was skipped") == copies - len(committed)  # every copy skipped
