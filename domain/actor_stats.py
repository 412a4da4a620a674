"""Per-actor figures over a window: runs, outcomes, failure rate, duration percentiles, throughput.

Finished jobs are read from the ledger for the last hours, and from hourly rollups
(`bookjobs_actor_hours`) for the closed hours before, so a week costs a few hundred rollup rows
rather than a scan of a million ledger rows. A rollup keeps each hour's durations as a log-bucket
histogram (19 % wide buckets): percentiles over rolled-up hours are estimates within that width, and
are marked `approximate`; over ledger rows alone they are exact.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain.errors import InvalidArgument
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
#: Histogram buckets per doubling of the duration (bucket width 2^(1/4) ≈ 1.19).
BUCKETS_PER_DOUBLING = 4
ROLLUP = "actor_hours"
FINISHED = (JobStatus.DONE, JobStatus.DEAD, JobStatus.CANCELLED, JobStatus.SKIPPED)
#: How many chart bars a window is drawn with.
CHART_BARS = 60


def window_of(name: str) -> timedelta:
    try:
        return WINDOWS[name]
    except KeyError:
        raise InvalidArgument(f"Unknown window {name!r}; use one of {', '.join(WINDOWS)}.") from None


def bucket_of(duration_ms: float) -> int:
    """The histogram bucket of a duration: bucket b holds (2^((b-1)/4), 2^(b/4)] ms; 0 holds ≤ 1 ms."""
    if duration_ms <= 1:
        return 0
    return math.ceil(math.log2(duration_ms) * BUCKETS_PER_DOUBLING)


def bucket_middle(bucket: int) -> float:
    """A duration standing for its bucket (the geometric middle), in ms."""
    if bucket <= 0:
        return 1.0
    return 2 ** ((bucket - 0.5) / BUCKETS_PER_DOUBLING)


@dataclass
class Tally:
    """What one actor did in some span of time; adds up from ledger rows and rollup rows."""

    done: int = 0
    dead: int = 0
    cancelled: int = 0
    skipped: int = 0
    retried: int = 0
    duration_sum_ms: float = 0.0
    duration_max_ms: float | None = None
    durations: list[float] = field(default_factory=list)  # exact, from ledger rows
    histogram: Counter[int] = field(default_factory=Counter)  # from rollups
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def runs(self) -> int:
        return self.done + self.dead + self.cancelled + self.skipped

    @property
    def timed(self) -> int:
        return len(self.durations) + sum(self.histogram.values())

    def add_row(self, status: str, retries: int, duration_ms: float | None) -> None:
        setattr(self, status, getattr(self, status) + 1)
        self.retried += retries or 0
        if duration_ms is not None:
            self.durations.append(duration_ms)
            self.duration_sum_ms += duration_ms
            self.duration_max_ms = max(self.duration_max_ms or 0.0, duration_ms)

    def add_hour(self, hour: ActorHour) -> None:
        for name in ("done", "dead", "cancelled", "skipped", "retried"):
            setattr(self, name, getattr(self, name) + getattr(hour, name))
        self.duration_sum_ms += hour.duration_sum_ms
        if hour.duration_max_ms is not None:
            self.duration_max_ms = max(self.duration_max_ms or 0.0, hour.duration_max_ms)
        self.histogram.update({int(bucket): count for bucket, count in hour.histogram.items()})

    def percentile(self, q: float) -> float | None:
        """The q-quantile of the durations (linear between exact values, as percentile_cont does)."""
        if not self.histogram:
            return _exact_percentile(sorted(self.durations), q)
        merged = self.histogram + Counter(bucket_of(d) for d in self.durations)
        return _histogram_percentile(merged, q, ceiling=self.duration_max_ms)

    def as_dict(self) -> dict:
        finished = self.done + self.dead
        return {
            "runs": self.runs,
            "done": self.done,
            "dead": self.dead,
            "cancelled": self.cancelled,
            "skipped": self.skipped,
            "retried": self.retried,
            "failure_rate": round(self.dead / finished, 4) if finished else None,
            "p50_ms": _round(self.percentile(0.5)),
            "p95_ms": _round(self.percentile(0.95)),
            "max_ms": _round(self.duration_max_ms),
            "mean_ms": _round(self.duration_sum_ms / self.timed) if self.timed else None,
            "approximate": bool(self.histogram),
        }


def _round(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def _exact_percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    position = q * (len(values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _histogram_percentile(histogram: Counter[int], q: float, *, ceiling: float | None) -> float | None:
    total = sum(histogram.values())
    if not total:
        return None
    rank = q * (total - 1)
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen > rank:
            middle = bucket_middle(bucket)
            return min(middle, ceiling) if ceiling is not None else middle
    return ceiling


@dataclass(frozen=True)
class ActorReport:
    actor: str
    window: str
    since: datetime
    tally: Tally
    chart_since: datetime
    chart_step: timedelta
    finished_per_bar: list[float]

    def as_dict(self, *, detail: bool = False) -> dict:
        data = {"actor": self.actor, "window": self.window, "since": self.since.isoformat()}
        data.update(self.tally.as_dict())
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

    def add(self, actor: str, start: datetime, end: datetime, count: int) -> None:
        bars = self._bars.setdefault(actor, [0.0] * CHART_BARS)
        first = (start - self.since) / self.step
        last = (end - self.since) / self.step
        if last <= first:  # one moment
            bars[min(max(int(first), 0), CHART_BARS - 1)] += count
            return
        for index in range(max(int(first), 0), min(math.ceil(last), CHART_BARS)):
            overlap = min(last, index + 1) - max(first, index)
            bars[index] += count * overlap / (last - first)

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
    tallies = _hourly_tallies(session, start, until)
    rows = [
        {
            "actor_name": actor,
            "hour": hour,
            "done": t.done,
            "dead": t.dead,
            "cancelled": t.cancelled,
            "skipped": t.skipped,
            "retried": t.retried,
            "timed": len(t.durations),
            "duration_sum_ms": t.duration_sum_ms,
            "duration_max_ms": t.duration_max_ms,
            "histogram": {str(b): n for b, n in sorted(Counter(bucket_of(d) for d in t.durations).items())},
        }
        for (actor, hour), t in tallies.items()
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


def _ledger_rows(session: Session, start: datetime, end: datetime, actor: str | None = None):
    """(actor, status, retries, duration, finished) of jobs finished in [start, end).

    A finished row's `updated_at` is its finishing time; the (status, updated_at) index finds them."""
    columns = (Job.actor_name, Job.status, Job.retries, Job.duration_ms, Job.updated_at)
    statement = select(*columns).where(
        Job.status.in_(FINISHED), Job.updated_at >= start, Job.updated_at < end
    )
    if actor:
        statement = statement.where(Job.actor_name == actor)
    return session.execute(statement.execution_options(yield_per=10_000))


def _hourly_tallies(session: Session, start: datetime, end: datetime) -> dict[tuple[str, datetime], Tally]:
    tallies: dict[tuple[str, datetime], Tally] = {}
    for name, status, retries, duration, finished in _ledger_rows(session, start, end):
        tallies.setdefault((name, _floor_hour(finished)), Tally()).add_row(status, retries, duration)
    return tallies


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
    tallies: dict[str, Tally] = {}
    chart = Chart(since, span / CHART_BARS)
    for start, end in pieces:
        if start >= end:
            continue
        for name, status, retries, duration, finished in _ledger_rows(session, start, end, actor):
            tallies.setdefault(name, Tally()).add_row(status, retries, duration)
            chart.add(name, finished, finished, 1)
    hours = select(ActorHour).where(ActorHour.hour >= rolled_from, ActorHour.hour < through)
    if actor:
        hours = hours.where(ActorHour.actor_name == actor)
    for hour in session.scalars(hours):
        tallies.setdefault(hour.actor_name, Tally()).add_hour(hour)
        runs = hour.done + hour.dead + hour.cancelled + hour.skipped
        chart.add(hour.actor_name, hour.hour, hour.hour + timedelta(hours=1), runs)
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
