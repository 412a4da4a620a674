"""A scheduler killed with -9 and restarted at once, twice: every cron slot still runs exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

import tests.support.actors as test_actors
from domain import db
from domain.models.periodic import PeriodicRun
from tests.conftest import REPO_ROOT
from tests.support.ledger import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def slots_run() -> dict[str, int]:
    with db.session_scope() as session:
        rows = session.execute(
            select(test_actors.attempts.c.key, func.count()).group_by(test_actors.attempts.c.key)
        ).all()
    return dict(rows)


def test_a_scheduler_killed_and_restarted_within_a_slot_sends_each_slot_once(
    rabbitmq_broker, service_env, start_worker, tmp_path
):
    test_actors.create_tables()
    start_worker(processes=1, threads=4)
    env = dict(service_env, BOOKJOBS_SCHEDULE__COUNT_SLOT="* * * * *", BOOKJOBS_SCHEDULE__HEALTH_CHECK="off")
    command = [sys.executable, "-m", "broker", "scheduler", "--module", "tests.support.actors"]

    def scheduler(n: int) -> subprocess.Popen:
        log = (tmp_path / f"scheduler-{n}.log").open("w")
        return subprocess.Popen(
            command, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    first = scheduler(1)
    wait_for(lambda: len(slots_run()) >= 1, timeout=60, interval=0.2, what="the current slot")
    os.killpg(first.pid, 9)  # right after it sent this minute's slot
    first.wait(10)
    second = scheduler(2)  # restarted within the same minute: must not send that slot again
    wait_for(lambda: len(slots_run()) >= 2, timeout=100, interval=0.2, what="the next slot")
    os.killpg(second.pid, 9)
    second.wait(10)
    third = scheduler(3)
    time.sleep(5)  # time for a resend to show up, were there one
    os.killpg(third.pid, 15)
    third.wait(20)

    with db.session_scope() as session:
        runs = session.execute(select(PeriodicRun.slot_at, PeriodicRun.status)).all()
    assert len(runs) >= 2 and {r.status for r in runs} == {"sent"}
    assert slots_run() == {f"slot:{r.slot_at.isoformat()}": 1 for r in runs}
