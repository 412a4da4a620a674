"""The ledger's batched upsert on PostgreSQL: whatever a job carries, one bad event never wedges the rest."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from broker.ledger import LedgerWriter
from domain import db
from tests.support.ledger import job

pytestmark = pytest.mark.integration


def event(message_id: str, **fields) -> dict:
    now = datetime.now(UTC)
    return {
        "message_id": message_id,
        "queue_name": "default",
        "actor_name": "echo",
        "status": "done",
        "progress": 3,
        "args": [1],
        "kwargs": {},
        "options": {},
        "priority": 0,
        "retries": 0,
        "enqueued_at": now,
        "finished_at": now,
        "updated_at": now,
        **fields,
    }


def test_odd_values_are_stored_and_an_unstorable_event_loses_only_its_details(postgres_url):
    writer = LedgerWriter(db.get_engine)
    events = [
        event("plain", result={"pages": 12, "when": datetime(2026, 1, 2, tzinfo=UTC)}),
        event("nul", error_message="bad\x00byte", result="a\x00b", args=["x\\u0000y"]),
        event("long-name", actor_name="a" * 300, error_type="E" * 300),
        event("not-a-number", result={"score": float("nan")}),
    ]
    written = [writer.record(e, urgent=True) for e in events]

    assert all(w.wait(10) for w in written)
    writer.close()
    plain = job("plain")
    assert plain.result == {"pages": 12, "when": "2026-01-02T00:00:00+00:00"}
    nul = job("nul")
    assert (nul.error_message, nul.result) == ("bad\ufffdbyte", "a\ufffdb")
    assert nul.args == ["x\\u0000y"]  # a literal backslash-u is text, not a NUL
    assert len(job("long-name").actor_name) == 200
    nan = job("not-a-number")
    assert nan.status == "done" and nan.result is None
    assert "could not store this job's details (ValueError)" in nan.error_message
