"""The fault scenarios' one assertion: each sent message's effect exactly once, and nothing else."""

from __future__ import annotations

from dramatiq.common import xq_name
from sqlalchemy import func, select

import tests.support.actors as test_actors
from broker.inspect import BrokerInspector
from domain import db
from domain.models.jobs import Job
from tests.support.ledger import wait_for


def effects() -> set[str]:
    with db.session_scope() as session:
        return set(session.scalars(select(test_actors.effects.c.message_id)))


def assert_each_effect_exactly_once(
    sent: list[str], broker_url: str, timeout: float = 120, other_jobs: int = 0
) -> None:
    """One effect per message of `sent`; those and `other_jobs` more `done` in the ledger; no dead letters."""
    wait_for(lambda: len(effects()) >= len(sent), timeout=timeout, interval=0.5, what="every effect")
    total = len(sent) + other_jobs

    def ledger_done() -> int:
        with db.session_scope() as session:
            return session.scalar(select(func.count()).where(Job.status == "done"))

    wait_for(lambda: ledger_done() == total, timeout=60, interval=0.5, what="every ledger row done")
    assert effects() == set(sent)  # one row per message id: none missing, none extra
    with db.session_scope() as session:
        statuses = dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    assert statuses == {"done": total}
    with BrokerInspector(broker_url) as inspector:
        assert inspector.message_count(xq_name("default"))[0] == 0
