"""Per-actor figures over a window: runs, outcomes, failure rate, duration percentiles, throughput.

Finished jobs are read from the ledger for the last hours, and from hourly rollups
(`bookjobs_actor_hours`) for the closed hours before, so a week costs a few hundred rollup rows
rather than a scan of a million ledger rows. A rollup keeps each hour's durations as a log-bucket
histogram (19 % wide buckets): percentiles over rolled-up hours are estimates within that width, and
are marked `approximate`; over ledger rows alone they are exact.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain import ledger_tallies
from domain.errors import InvalidArgument
from domain.ledger_tallies import Tally
from domain.models.base import utcnow
from domain.models.jobs import ActorHour, Job, JobStatus, Rollup

WINDOWS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
#: Only hours that closed this long ago are rolled up: later ledger writes (a flush after a short
#: database outage) still land in hours read from the ledger.
SETTLE = timedelta(minutes=10)
ROLLUP = "actor_hours"
#: How many chart bars a window is drawn with.
CHART_BARS = 60


def window_of(name: str) -> timedelta:
    try:
        return WINDOWS[name]
    except KeyError:
        raise InvalidArgument(f"Unknown window {name!r}; use one of {', '.join(WINDOWS)}.") from None


def as_figures(tally: Tally) -> dict:
    """A tally as the API and the pages show it."""
    finished = tally.done + tally.dead
    return {
        "runs": tally.runs,
        "done": tally.done,
        "dead": tally.dead,
        "cancelled": tally.cancelled,
        "skipped": tally.skipped,
        "retried": tally.retried,
        "failure_rate": round(tally.dead / finished, 4) if finished else None,
        "p50_ms": _round(tally.percentile(0.5)),
        "p95_ms": _round(tally.percentile(0.95)),
        "max_ms": _round(tally.duration_max_ms),
        "mean_ms": _round(tally.duration_sum_ms / tally.timed) if tally.timed else None,
        "approximate": tally.approximate,
    }


def _round(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


@dataclass(frozen=True)
class ActorReport:
    actor: str
    window: str
    since: datetime
    tally: Tally
    chart_since: datetime
    chart_step: timedelta
    finished_per_bar: list[float]

    @property
    def figures(self) -> dict:
        return as_figures(self.tally)

    def as_dict(self, *, detail: bool = False) -> dict:
        data = {"actor": self.actor, "window": self.window, "since": self.since.isoformat()}
        data.update(as_figures(self.tally))
        if detail:
            minutes = self.chart_step.total_seconds() / 60
            data["throughput_per_minute"] = [
                {
                    "at": (self.chart_since + i * self.chart_step).isoformat(),
                    "per_minute": round(n / minutes, 3),
                }
                for i, n in enumerate(self.finished_per_bar)
            ]
            data["top_errors"] = [{"error_type": e, "count": n} for e, n in self.tally.errors.most_common(5)]
        return data


class Chart:
    """Finished jobs per bar of equal width from `since`; a rolled-up hour is spread over the bars
    it overlaps."""

    def __init__(self, since: datetime, step: timedelta) -> None:
        self.since, self.step = since, step
        self._bars: dict[str, list[float]] = {}

    def spread(self, actor: str, start: datetime, end: datetime, count: int) -> None:
        """Spread `count` jobs evenly over [start, end)."""
        bars = self._bars.setdefault(actor, [0.0] * CHART_BARS)
        first = (start - self.since) / self.step
        last = (end - self.since) / self.step
        for index in range(max(int(first), 0), min(math.ceil(last), CHART_BARS)):
            overlap = min(last, index + 1) - max(first, index)
            bars[index] += count * overlap / (last - first)

    def add_to_bar(self, actor: str, index: int, count: int) -> None:
        bars = self._bars.setdefault(actor, [0.0] * CHART_BARS)
        bars[min(max(index, 0), CHART_BARS - 1)] += count

    def bars(self, actor: str) -> list[float]:
        return self._bars.get(actor, [0.0] * CHART_BARS)


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(moment: datetime) -> datetime:
    floor = _floor_hour(moment)
    return floor if floor == moment else floor + timedelta(hours=1)


def rolled_through(session: Session) -> datetime | None:
    return session.scalar(select(Rollup.through).where(Rollup.name == ROLLUP))


def roll_up(session: Session, *, now: datetime | None = None, keep: timedelta = timedelta(days=8)) -> int:
    """Roll every closed, settled hour not yet rolled up into `bookjobs_actor_hours`; drop rollups
    older than `keep`. Returns how many hours it rolled. Safe to run from several places at once:
    the watermark row is locked while it works."""
    now = now or utcnow()
    until = _floor_hour(now - SETTLE)
    start = _lock_watermark(session, default=until - keep)
    if start >= until:
        return 0
    start = max(start, _floor_hour(until - keep))
    rows = [
        {
            "actor_name": actor,
            "hour": hour,
            "done": t.done,
            "dead": t.dead,
            "cancelled": t.cancelled,
            "skipped": t.skipped,
            "retried": t.retried,
            "timed": t.timed,
            "duration_sum_ms": t.duration_sum_ms,
            "duration_max_ms": t.duration_max_ms,
            "histogram": {str(bucket): n for bucket, n in sorted(t.histogram.items())},
        }
        for (actor, hour), t in ledger_tallies.tallies(session, [(start, until)], by_hour=True).items()
    ]
    session.execute(delete(ActorHour).where(ActorHour.hour >= start, ActorHour.hour < until))
    if rows:
        session.execute(ActorHour.__table__.insert(), rows)
    session.execute(delete(ActorHour).where(ActorHour.hour < now - keep))
    session.execute(Rollup.__table__.update().where(Rollup.name == ROLLUP).values(through=until))
    return int((until - start) / timedelta(hours=1))


def _lock_watermark(session: Session, *, default: datetime) -> datetime:
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(Rollup).values(name=ROLLUP, through=default).on_conflict_do_nothing())
    return session.scalar(select(Rollup.through).where(Rollup.name == ROLLUP).with_for_update())


HOUR_COLUMNS = tuple(ActorHour.__table__.columns)


def _hour_tally(hour) -> Tally:
    tally = Tally(exact=None)
    for status in ("done", "dead", "cancelled", "skipped"):
        tally.count(status, getattr(hour, status), 0, 0, 0.0, None)
    tally.count("done", 0, hour.retried, hour.timed, hour.duration_sum_ms, hour.duration_max_ms)
    tally.histogram.update({int(bucket): n for bucket, n in hour.histogram.items()})
    return tally


def report(
    session: Session, *, window: str = "24h", actor: str | None = None, now: datetime | None = None
) -> list[ActorReport]:
    """One report per actor that finished jobs in the window (or just `actor`), busiest first."""
    now = now or utcnow()
    span = window_of(window)
    since = now - span
    roll_up(session, now=now)
    # Rolled-up whole hours in [ceil(since), through); the ledger for the rest of the window.
    rolled_from, through = _ceil_hour(since), rolled_through(session) or since
    if rolled_from >= through:
        rolled_from = through = now
    pieces = [(since, rolled_from), (through, now)]
    hours = select(*HOUR_COLUMNS).where(ActorHour.hour >= rolled_from, ActorHour.hour < through)
    if actor:
        hours = hours.where(ActorHour.actor_name == actor)
    rolled = session.execute(hours).all()
    # Exact quantiles of the ledger rows only matter when no rolled-up hour joins them.
    tallies = ledger_tallies.tallies(session, pieces, actor=actor, exact=not rolled)
    chart = Chart(since, span / CHART_BARS)
    per_bar = ledger_tallies.finished_per_bar(session, pieces, since=since, step=chart.step, actor=actor)
    for name, bars in per_bar.items():
        for index, jobs in bars.items():
            chart.add_to_bar(name, index, jobs)
    for hour in rolled:
        tallies.setdefault(hour.actor_name, Tally()).add(_hour_tally(hour))
        runs = hour.done + hour.dead + hour.cancelled + hour.skipped
        chart.spread(hour.actor_name, hour.hour, hour.hour + timedelta(hours=1), runs)
    if actor:
        for error, count in _top_errors(session, actor, since):
            tallies.setdefault(actor, Tally()).errors[error] = count
    reports = [
        ActorReport(name, window, since, tally, since, chart.step, chart.bars(name))
        for name, tally in tallies.items()
    ]
    return sorted(reports, key=lambda r: (-r.tally.runs, r.actor))


def _top_errors(session: Session, actor: str, since: datetime, limit: int = 5) -> Iterable[tuple[str, int]]:
    """The most common error types of `actor`'s dead jobs since `since`, each with its count."""
    statement = (
        select(Job.error_type, func.count())
        .where(Job.status == JobStatus.DEAD, Job.updated_at >= since, Job.actor_name == actor)
        .group_by(Job.error_type)
        .order_by(func.count().desc())
        .limit(limit)
    )
    for error_type, count in session.execute(statement):
        yield error_type or "Error", count
