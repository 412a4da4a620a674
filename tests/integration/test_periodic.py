"""Periodic jobs on the real RabbitMQ and PostgreSQL: nothing skipped, each slot once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from domain import db
from domain.models.base import utcnow
from domain.models.periodic import PeriodicRun
from periodic.runner import broker_enqueue
from periodic.scheduler import slot_message_id
from tests.conftest import REPO_ROOT
from tests.support import actors as test_actors
from tests.support.ledger import wait_for, wait_for_status

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def attempts_table(postgres_url):
    test_actors.create_tables()


def test_a_late_periodic_job_whose_first_attempt_fails_is_retried_and_completes(
    rabbitmq_broker, start_worker
):
    start_worker()
    slot = (utcnow() - timedelta(minutes=10)).replace(second=0, microsecond=0)  # periodiq would drop it
    message_id = slot_message_id("flaky_slot", slot)

    broker_enqueue(rabbitmq_broker)("flaky_slot", slot, message_id)

    row = wait_for_status(message_id, "done", timeout=30)
    assert row.retries == 1
    assert row.result == {"slot": f"slot:{slot.isoformat()}", "attempts": 2}
    assert row.options["scheduled_at"] == slot.isoformat()


@pytest.mark.slow
def test_two_real_schedulers_send_each_slot_of_an_every_minute_row_exactly_once(
    rabbitmq_broker, service_env, start_worker, tmp_path
):
    start_worker(processes=1, threads=4)
    env = dict(service_env, BOOKJOBS_SCHEDULE__COUNT_SLOT="* * * * *", BOOKJOBS_SCHEDULE__HEALTH_CHECK="off")
    command = [sys.executable, "-m", "broker", "scheduler", "--module", "tests.support.actors"]
    schedulers = [
        subprocess.Popen(
            command,
            env=env,
            cwd=REPO_ROOT,
            stdout=(tmp_path / f"s{i}.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for i in range(2)
    ]
    try:
        # The current minute's slot is still within the grace period, so two slots take at most a minute.
        wait_for(lambda: _done_slots() >= 2, timeout=100, interval=0.5, what="two slots run")
        time.sleep(2)  # give a duplicate the chance to show up
    finally:
        for process in schedulers:
            os.killpg(process.pid, 15)
            process.wait(20)

    with db.session_scope() as session:
        runs = session.execute(select(PeriodicRun.slot_at, PeriodicRun.claimed_by, PeriodicRun.status)).all()
        attempts = session.execute(
            select(test_actors.attempts.c.key, func.count()).group_by(test_actors.attempts.c.key)
        ).all()
    assert len(runs) >= 2 and {r.status for r in runs} == {"sent"}
    assert {key: count for key, count in attempts} == {f"slot:{r.slot_at.isoformat()}": 1 for r in runs}
    logs = [(tmp_path / f"s{i}.log").read_text() for i in range(2)]
    assert all("up with" in log for log in logs), logs  # both schedulers really ran


def _done_slots() -> int:
    with db.session_scope() as session:
        return session.scalar(select(func.count()).select_from(test_actors.attempts))
