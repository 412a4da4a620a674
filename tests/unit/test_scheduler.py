"""The scheduler with an injected clock on SQLite: once per slot, missed-run policies, dead claimers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from domain import db
from domain.models.jobs import Job
from domain.models.periodic import PeriodicRun
from periodic import claims
from periodic.schedule import MissedRuns, ScheduleRow
from periodic.scheduler import Scheduler


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def sent(sqlite_url) -> list[tuple[str, datetime, str]]:
    return []


def scheduler(rows, clock, sent, name="s1") -> Scheduler:
    return Scheduler(
        list(rows),
        enqueue=lambda *m: sent.append(m),
        queue_of=lambda _: "default",
        scheduler_id=name,
        clock=clock,
    )


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, 22, hour, minute, second, tzinfo=UTC)


EVERY_10 = ScheduleRow("tick", "*/10 * * * *")


def test_each_slot_is_sent_once_at_its_time(sent):
    clock = Clock(at(10, 0, 5))
    one = scheduler([EVERY_10], clock, sent)

    assert one.tick() == at(10, 10)
    for _ in range(3):
        clock.advance(minutes=10)
        one.tick()
    one.tick()

    assert [slot for _, slot, _ in sent] == [at(10, 0), at(10, 10), at(10, 20), at(10, 30)]
    assert len({message_id for *_, message_id in sent}) == 4


def test_two_schedulers_send_each_slot_once_between_them(sent):
    clock = Clock(at(10, 0, 1))
    first, second = scheduler([EVERY_10], clock, sent, "a"), scheduler([EVERY_10], clock, sent, "b")

    for _ in range(5):
        first.tick()
        second.tick()
        clock.advance(minutes=10)

    assert [slot for _, slot, _ in sent] == [at(10, m) for m in (0, 10, 20, 30, 40)]
    with db.session_scope() as session:
        owners = session.scalars(select(PeriodicRun.claimed_by)).all()
    assert len(owners) == 5


def test_a_restart_within_the_slot_minute_sends_nothing_again(sent):
    clock = Clock(at(10, 0, 2))
    scheduler([EVERY_10], clock, sent).tick()
    clock.advance(seconds=20)

    scheduler([EVERY_10], clock, sent, "restarted").tick()

    assert [slot for _, slot, _ in sent] == [at(10, 0)]


@pytest.mark.parametrize(
    ("missed", "limit", "expected_runs"),
    [
        (MissedRuns.SKIP, 1, []),
        (MissedRuns.RUN_ONCE, 1, [at(10, 50)]),
        (MissedRuns.CATCH_UP, 3, [at(10, 30), at(10, 40), at(10, 50)]),
        (MissedRuns.CATCH_UP, 10, [at(10, m) for m in (10, 20, 30, 40, 50)]),
    ],
)
def test_missed_run_policies_after_a_downtime(sent, missed, limit, expected_runs):
    row = ScheduleRow("tick", "*/10 * * * *", missed=missed, catch_up_limit=limit)
    clock = Clock(at(10, 0, 3))
    scheduler([row], clock, sent).tick()  # ran the 10:00 slot, then went down
    sent.clear()

    clock.now = at(10, 55)
    scheduler([row], clock, sent, "after-downtime").tick()

    assert [slot for _, slot, _ in sent] == expected_runs
    skipped = 5 - len(expected_runs)
    with db.session_scope() as session:
        ledger = session.scalars(select(Job).where(Job.status == "skipped")).all()
    if skipped:
        assert len(ledger) == 1
        assert ledger[0].error_message.startswith(f"{skipped} slot(s) from")
        assert f"missed-run policy {missed.value!r}" in ledger[0].error_message
    else:
        assert ledger == []


def test_a_slot_a_few_seconds_late_is_not_missed(sent):
    clock = Clock(at(10, 0, 3))
    one = scheduler([ScheduleRow("tick", "*/10 * * * *", missed=MissedRuns.SKIP)], clock, sent)
    one.tick()
    clock.now = at(10, 10, 45)  # the process was busy for 45 s past the slot

    one.tick()

    assert [slot for _, slot, _ in sent] == [at(10, 0), at(10, 10)]


def test_a_claim_whose_scheduler_died_before_sending_is_sent_by_another(sent):
    clock = Clock(at(10, 0, 1))
    with db.session_scope() as session:
        claims.claim(
            session,
            actor_name="tick",
            slot_at=at(10, 0),
            status=claims.CLAIMED,
            message_id="m-10",
            claimed_by="dead",
            claimed_at=clock(),
        )
    clock.advance(minutes=2)

    scheduler([EVERY_10], clock, sent, "alive").tick()

    assert sent == [("tick", at(10, 0), "m-10")]
    with db.session_scope() as session:
        assert session.scalars(select(PeriodicRun.status)).all() == ["sent"]
