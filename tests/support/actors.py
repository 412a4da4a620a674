"""Actors that exist only for tests: they record each attempt as a row, then succeed or fail on demand."""

from __future__ import annotations

import os
import sys
import time

import dramatiq
from dramatiq.middleware import CurrentMessage
from periodiq import cron
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, insert, select

from broker.middleware.soft_time_limit import SoftTimeLimitExceeded
from domain import db
from domain.errors import PermanentError, TransientError
from domain.models.base import utcnow

metadata = MetaData()
attempts = Table(
    "test_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(100), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
)

#: Short backoffs so retry tests take seconds, not minutes.
FAST_RETRY = {"min_backoff": 200, "max_backoff": 5_000}


effects = Table(
    "test_effects",
    metadata,
    Column("message_id", String(64), primary_key=True),
    Column("key", String(100), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
)


#: One row per committed run of `record_effect`, never deduplicated: a job that runs twice shows twice.
runs = Table(
    "test_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    #: Which process ran it and how the message came (fresh, redelivered, possible_duplicate): what a
    #: test that finds a job run twice prints.
    Column("pid", Integer),
    Column("delivery", String(64)),
)


def create_tables() -> None:
    """Create the attempts table in the current database (idempotent)."""
    metadata.create_all(db.get_engine())


def record_attempt(key: str) -> int:
    """Insert one attempt row for `key` and return how many there are now."""
    with db.session_scope() as session:
        session.execute(insert(attempts).values(key=key, at=utcnow()))
        return session.scalar(select(func.count()).select_from(attempts).where(attempts.c.key == key))


def attempt_times(key: str) -> list:
    """When each attempt of `key` started, in order."""
    with db.session_scope() as session:
        return list(
            session.scalars(select(attempts.c.at).where(attempts.c.key == key).order_by(attempts.c.id))
        )


@dramatiq.actor(queue_name="default", **FAST_RETRY)
def flaky(key: str, failures: int) -> dict:
    """Fail with a transient error `failures` times, then succeed."""
    attempt = record_attempt(key)
    if attempt <= failures:
        raise TransientError(f"Attempt {attempt} of {key!r} failed on purpose.")
    return {"key": key, "attempts": attempt}


@dramatiq.actor(queue_name="default", max_retries=2, **FAST_RETRY)
def always_transient(key: str) -> None:
    """Fail with a transient error every time."""
    attempt = record_attempt(key)
    raise TransientError(f"Attempt {attempt} of {key!r} failed on purpose.")


@dramatiq.actor(queue_name="default", **FAST_RETRY)
def permanent_failure(key: str) -> None:
    """Fail with a permanent error: the job must go dead without a retry."""
    record_attempt(key)
    raise PermanentError(f"Book {key!r} not found.")


@dramatiq.actor(queue_name="default", **FAST_RETRY)
def fails_first_time(key: str) -> dict:
    """Dead on the first attempt (a permanent error), done on any later one: what a requeue is for."""
    attempt = record_attempt(key)
    if attempt == 1:
        raise PermanentError(f"Chapter {key!r} was not uploaded yet.")
    return {"key": key, "attempts": attempt}


@dramatiq.actor(queue_name="default", max_retries=20, min_backoff=100, max_backoff=2_000)
def record_effect(key: str, seconds: float = 0.0) -> str:
    """An idempotent effect: one row per message, however often the message runs (faults re-run jobs)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    record_attempt(key)
    if seconds:
        time.sleep(seconds)
    message = CurrentMessage.get_current_message()
    message_id = message.message_id
    delivery = [name for name in ("redelivered",) if vars(message).get(name)]
    delivery += [name for name in ("possible_duplicate", "duplicate_checks") if message.options.get(name)]
    with db.session_scope() as session:
        session.execute(
            pg_insert(effects).values(message_id=message_id, key=key, at=utcnow()).on_conflict_do_nothing()
        )
        session.execute(
            insert(runs).values(
                message_id=message_id, at=utcnow(), pid=os.getpid(), delivery=",".join(delivery) or "fresh"
            )
        )
    return message_id


@dramatiq.actor(queue_name="default", time_limit=500, **FAST_RETRY)
def oversleeper(key: str, seconds: float) -> None:
    """Sleep past the 0.5 s time limit."""
    record_attempt(key)
    for _ in range(int(seconds * 20)):
        time.sleep(0.05)


@dramatiq.actor(queue_name="default")
def slow_effect(key: str, seconds: float) -> dict:
    """Sleep, then leave exactly one effect row: a job killed while sleeping leaves none."""
    time.sleep(seconds)
    return {"key": key, "attempts": record_attempt(key)}


@dramatiq.actor(queue_name="default")
def echo(value: int) -> int:
    """Return its argument: the cheapest job with a checkable result."""
    return value


@dramatiq.actor(queue_name="default")
def echo_text(text: str) -> str:
    """Return its text, whatever characters it holds."""
    return text


@dramatiq.actor(queue_name="default")
def switch_interval() -> float:
    """The GIL switch interval of the process that runs it, in seconds."""
    return sys.getswitchinterval()


@dramatiq.actor(queue_name="default")
def issue_login(user_id: int, password: str) -> dict:
    """Return a secret: the ledger must not show it."""
    return {"user_id": user_id, "token": f"secret-token-{user_id}"}


def slot_key() -> str:
    """`slot:<scheduled_at>` of the periodic message being processed."""
    return "slot:" + CurrentMessage.get_current_message().options["scheduled_at"]


@dramatiq.actor(queue_name="default", periodic=cron("* * * * *"))
def count_slot() -> dict:
    """Record one attempt per run of its slot: a slot sent twice shows two."""
    return {"slot": slot_key(), "attempts": record_attempt(slot_key())}


@dramatiq.actor(queue_name="default", periodic=cron("* * * * *"), **FAST_RETRY)
def flaky_slot() -> dict:
    """Fail its slot's first attempt with a transient error."""
    attempt = record_attempt(slot_key())
    if attempt == 1:
        raise TransientError("The first attempt of each slot fails on purpose.")
    return {"slot": slot_key(), "attempts": attempt}


@dramatiq.actor(queue_name="email", max_retries=0)
def mail_then_linger(to: str, key: str, seconds: float) -> dict:
    """Send one mail through the outbox, then stay busy: a worker killed now has sent but not acked."""
    from actors.email import mail_config
    from domain import notifications

    delivery = notifications.send_notification(
        db.session_scope,
        mail_config(),
        to=to,
        subject="Проверка",
        template="notification",
        context={"body": key},
        request_key=key,
    )
    time.sleep(seconds)
    return delivery.as_dict()


@dramatiq.actor(queue_name="email", max_retries=0)
def urgent(value: int) -> int:
    """A job of a high-priority queue (email, 8) with nothing to send: the priority test's overtaker."""
    return value


@dramatiq.actor(queue_name="default")
def sleepy_loop(key: str, seconds: float) -> str:
    """Sleep in short steps (Python keeps control, as most jobs do): the job a cancel aborts."""
    record_attempt(key)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
    record_attempt(f"{key}:finished")
    return key


@dramatiq.actor(queue_name="default", soft_time_limit=500, time_limit=30_000)
def soft_limited(key: str) -> None:
    """Runs until its soft limit (0.5 s), then cleans up and gives up."""
    record_attempt(key)
    try:
        while True:
            time.sleep(0.05)
    except SoftTimeLimitExceeded:
        record_attempt(f"{key}:cleaned up")
        raise


@dramatiq.actor(queue_name="default", time_limit=1000)
def stuck_in_c(key: str, seconds: float) -> None:
    """One long C call (a blocking sleep) past its 1 s hard limit: no exception can reach it."""
    record_attempt(key)
    time.sleep(seconds)
    record_attempt(f"{key}:returned")


@dramatiq.actor(queue_name="default")
def steps_with_progress(title: str, steps: int, seconds_per_step: float) -> dict:
    """Reports its progress after each step (for the dashboard's progress bar)."""
    from broker import jobs

    for step in range(steps):
        time.sleep(seconds_per_step)
        jobs.progress(step + 1, steps, "steps")
    return {"title": title, "steps": steps}


def all_actors() -> list[dramatiq.Actor]:
    """Every test actor."""
    return [value for value in globals().values() if isinstance(value, dramatiq.Actor)]
