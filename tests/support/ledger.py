"""Polling helpers: wait until the ledger says what a test expects."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import func, insert, select

from domain import db
from domain.models.base import utcnow
from domain.models.jobs import Job

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T | None], *, timeout: float = 20.0, interval: float = 0.05, what: str = ""
) -> T:
    """Call `probe` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what or probe}.")
        time.sleep(interval)


def job(message_id: str) -> Job | None:
    """The ledger row of `message_id`, read fresh."""
    with db.session_scope() as session:
        return session.get(Job, message_id)


def wait_for_status(message_id: str, *statuses: str, timeout: float = 20.0) -> Job:
    """The ledger row of `message_id` once its status is one of `statuses`."""

    def probe() -> Job | None:
        row = job(message_id)
        return row if row is not None and row.status in statuses else None

    return wait_for(probe, timeout=timeout, what=f"job {message_id} to be {'/'.join(statuses)}")


def count_by_status(status: str) -> int:
    """How many ledger rows have `status`."""
    with db.session_scope() as session:
        return session.scalar(select(func.count()).select_from(Job).where(Job.status == status))


def first_result(actor_name: str) -> object | None:
    """The result of the first `done` job of `actor_name`, if any."""
    with db.session_scope() as session:
        row = session.scalars(select(Job).where(Job.actor_name == actor_name, Job.status == "done")).first()
        return row.result if row is not None else None


def insert_finished_jobs(
    actor: str, outcomes: list[tuple[str, float, int]], *, finished_ago: timedelta
) -> None:
    """Finished ledger rows of `actor`: (status, duration ms, retries) each, finished `finished_ago`."""
    finished = utcnow() - finished_ago
    rows = [
        {
            "message_id": str(uuid.uuid4()),
            "queue_name": "default",
            "actor_name": actor,
            "status": status,
            "progress": 40,
            "args": [],
            "kwargs": {},
            "options": {},
            "retries": retries,
            "enqueued_at": finished - timedelta(seconds=1),
            "started_at": finished - timedelta(milliseconds=duration),
            "finished_at": finished,
            "duration_ms": duration,
            "error_type": "PermanentError" if status == "dead" else None,
            "error_message": "Глава не найдена." if status == "dead" else None,
            "updated_at": finished,
        }
        for status, duration, retries in outcomes
    ]
    with db.session_scope() as session:
        session.execute(insert(Job), rows)
