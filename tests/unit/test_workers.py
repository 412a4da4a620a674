"""Worker heartbeat rows: a worker gone for good (killed, never said goodbye) leaves the list."""

from __future__ import annotations

from datetime import timedelta

from domain import db, ledger
from domain.models.base import utcnow
from domain.models.jobs import WorkerHeartbeat


def beat(worker_id: str, seconds_ago: float) -> WorkerHeartbeat:
    seen = utcnow() - timedelta(seconds=seconds_ago)
    return WorkerHeartbeat(
        worker_id=worker_id, hostname="h", pid=1, queues=["default"], started_at=seen, last_seen=seen
    )


def test_rows_of_workers_silent_for_longer_than_the_cutoff_are_pruned(sqlite_url):
    with db.session_scope() as session:
        session.add_all([beat("alive", 3), beat("stale", 30), beat("gone", 3600)])

    with db.session_scope() as session:
        pruned = ledger.prune_workers(session, silent_for=timedelta(minutes=10))

    assert pruned == 1
    with db.session_scope() as session:
        assert sorted(w.worker_id for w in ledger.workers(session)) == ["alive", "stale"]
