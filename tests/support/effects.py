"""The fault scenarios' one assertion: each sent message's effect exactly once, and nothing else."""

from __future__ import annotations

from dramatiq.common import xq_name
from sqlalchemy import func, select

import tests.support.actors as test_actors
from broker.inspect import BrokerInspector
from domain import db
from domain.models.jobs import Job
from tests.support.ledger import wait_for

runs = test_actors.runs


def effects() -> set[str]:
    with db.session_scope() as session:
        return set(session.scalars(select(test_actors.effects.c.message_id)))


def runs_per_message() -> dict[str, int]:
    """How many committed runs each message had (one row per run, not per message id)."""
    with db.session_scope() as session:
        rows = session.execute(
            select(test_actors.runs.c.message_id, func.count()).group_by(test_actors.runs.c.message_id)
        )
        return dict(rows.all())


def repeated_runs() -> list[tuple]:
    """Every run of a message that ran more than once: its id, time, process, delivery, key."""
    repeated = [message_id for message_id, count in runs_per_message().items() if count > 1]
    with db.session_scope() as session:
        rows = session.execute(
            select(runs.c.message_id, runs.c.at, runs.c.pid, runs.c.delivery, test_actors.effects.c.key)
            .join(test_actors.effects, test_actors.effects.c.message_id == runs.c.message_id)
            .where(runs.c.message_id.in_(repeated))
            .order_by(runs.c.message_id, runs.c.at)
        )
        return [tuple(row) for row in rows]


def extra_runs() -> int:
    """Committed runs beyond the first of each message."""
    return sum(count - 1 for count in runs_per_message().values())


def assert_each_effect_exactly_once(
    sent: list[str], broker_url: str, timeout: float = 120, other_jobs: int = 0, allowed_extra_runs: int = 0
) -> None:
    """One effect per message of `sent`, at most `allowed_extra_runs` runs more than one each; those and
    `other_jobs` more `done` in the ledger; no dead letters."""
    wait_for(lambda: len(effects()) >= len(sent), timeout=timeout, interval=0.5, what="every effect")
    total = len(sent) + other_jobs

    def ledger_done() -> int:
        with db.session_scope() as session:
            return session.scalar(select(func.count()).where(Job.status == "done"))

    wait_for(lambda: ledger_done() == total, timeout=60, interval=0.5, what="every ledger row done")
    assert effects() == set(sent)  # one row per message id: none missing, none extra
    assert extra_runs() <= allowed_extra_runs, f"{extra_runs()} extra runs: {repeated_runs()}"
    with db.session_scope() as session:
        statuses = dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    assert statuses == {"done": total}
    with BrokerInspector(broker_url) as inspector:
        assert inspector.message_count(xq_name("default"))[0] == 0
