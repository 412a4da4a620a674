"""Aggregates of finished jobs over time ranges of the ledger, per actor (or per actor and hour).

On PostgreSQL the database does the work (GROUP BY, percentile_cont, log buckets), so a range costs
one pass over its rows in the (status, updated_at) index order and returns a few rows per actor;
elsewhere (SQLite, the embedded default) the rows are summed up in Python.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Float, and_, cast, func, literal_column, or_, select
from sqlalchemy.orm import Session

from domain.models.jobs import Job, JobStatus

FINISHED = (JobStatus.DONE, JobStatus.DEAD, JobStatus.CANCELLED, JobStatus.SKIPPED)
#: Histogram buckets per doubling of the duration (bucket width 2^(1/4) ≈ 1.19).
BUCKETS_PER_DOUBLING = 4
#: `bucket_of` in SQL.
BUCKET_SQL = (
    "CASE WHEN duration_ms IS NULL THEN NULL WHEN duration_ms <= 1 THEN 0 ELSE CAST(ceil("
    f"ln(CAST(duration_ms AS double precision)) * {BUCKETS_PER_DOUBLING} / ln(2.0)) AS integer) END"
)
QUANTILES = (0.5, 0.95)

Ranges = Sequence[tuple[datetime, datetime]]


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
    """What one actor did in some span: counts, durations as a histogram, exact quantiles if known."""

    done: int = 0
    dead: int = 0
    cancelled: int = 0
    skipped: int = 0
    retried: int = 0
    timed: int = 0
    duration_sum_ms: float = 0.0
    duration_max_ms: float | None = None
    histogram: Counter[int] = field(default_factory=Counter)
    #: Exact quantiles of the durations, while the tally holds ledger rows only.
    exact: dict[float, float] | None = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def runs(self) -> int:
        return self.done + self.dead + self.cancelled + self.skipped

    def add(self, other: Tally) -> None:
        """Add another span's tally: exact quantiles do not add up, so they are dropped."""
        for name in ("done", "dead", "cancelled", "skipped", "retried", "timed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.duration_sum_ms += other.duration_sum_ms
        if other.duration_max_ms is not None:
            self.duration_max_ms = max(self.duration_max_ms or 0.0, other.duration_max_ms)
        if other.timed:
            self.exact = other.exact if not self.histogram else None
        self.histogram.update(other.histogram)

    def count(self, status: str, jobs: int, retries: int, timed: int, total_ms: float, max_ms: float | None):
        setattr(self, status, getattr(self, status) + jobs)
        self.retried += retries
        self.timed += timed
        self.duration_sum_ms += total_ms
        if max_ms is not None:
            self.duration_max_ms = max(self.duration_max_ms or 0.0, max_ms)

    def percentile(self, q: float) -> float | None:
        """The q-quantile: exact (linear between values, as percentile_cont) over ledger rows only,
        else estimated from the histogram (within a bucket's 19 %)."""
        if self.exact is not None and q in self.exact:
            return self.exact[q]
        return _histogram_percentile(self.histogram, q, ceiling=self.duration_max_ms)

    @property
    def approximate(self) -> bool:
        return self.timed > 0 and not (self.exact and all(q in self.exact for q in QUANTILES))


def tallies(
    session: Session, ranges: Ranges, *, actor: str | None = None, by_hour: bool = False, exact: bool = True
) -> dict:
    """{actor: Tally} (or {(actor, hour): Tally} with `by_hour`) of jobs finished in the ranges
    (a finished row's `updated_at` is when it finished). With `exact` the tallies know their exact
    quantiles, else (and by hour) their duration histograms: what adding rollups to them needs."""
    ranges = [(start, end) for start, end in ranges if start < end]
    if not ranges:
        return {}
    if session.bind.dialect.name == "postgresql":
        return _sql_tallies(session, ranges, actor, by_hour, exact=exact and not by_hour)
    return _python_tallies(session, ranges, actor, by_hour)


def finished_per_bar(
    session: Session, ranges: Ranges, *, since: datetime, step: timedelta, actor: str | None = None
) -> dict[str, Counter[int]]:
    """{actor: {bar index: jobs}} of jobs finished in the ranges, bar i covering since + i × step."""
    ranges = [(start, end) for start, end in ranges if start < end]
    bars: dict[str, Counter[int]] = {}
    if not ranges:
        return bars
    if session.bind.dialect.name == "postgresql":
        seconds = func.extract("epoch", Job.updated_at - since)
        index = func.floor(seconds / step.total_seconds()).label("bar")
        statement = select(Job.actor_name, index, func.count()).where(*_where(ranges, actor)).group_by(
            Job.actor_name, literal_column("bar")
        )
        for name, bar, jobs in session.execute(statement):
            bars.setdefault(name, Counter())[int(bar)] += jobs
        return bars
    rows = session.execute(select(Job.actor_name, Job.updated_at).where(*_where(ranges, actor)))
    for name, finished in rows:
        bars.setdefault(name, Counter())[int((finished - since) / step)] += 1
    return bars


def _where(ranges: Ranges, actor: str | None) -> list:
    spans = [and_(Job.updated_at >= start, Job.updated_at < end) for start, end in ranges]
    where = [Job.status.in_(FINISHED), or_(*spans)]
    if actor:
        where.append(Job.actor_name == actor)
    return where


def _sql_tallies(session: Session, ranges: Ranges, actor: str | None, by_hour: bool, *, exact: bool) -> dict:
    hour = func.date_trunc("hour", Job.updated_at).label("hour")
    keys = [Job.actor_name, hour] if by_hour else [Job.actor_name]
    where = _where(ranges, actor)

    def key(row) -> object:
        return (row[0], row[1]) if by_hour else row[0]

    result: dict = {}
    counts = select(
        *keys,
        Job.status,
        func.count(),
        func.coalesce(func.sum(Job.retries), 0),
        func.count(Job.duration_ms),
        func.coalesce(func.sum(Job.duration_ms), 0.0),
        func.max(Job.duration_ms),
    ).where(*where)
    for row in session.execute(counts.group_by(*keys, Job.status)):
        status, jobs, retries, timed, total, longest = row[len(keys) :]
        result.setdefault(key(row), Tally()).count(status, jobs, int(retries), timed, float(total), longest)
    if not exact:
        bucket = literal_column(BUCKET_SQL).label("bucket")
        histogram = select(*keys, bucket, func.count()).where(*where, Job.duration_ms.is_not(None))
        for row in session.execute(histogram.group_by(*keys, literal_column("bucket"))):
            result[key(row)].histogram[int(row[-2])] += row[-1]
        return result
    quantiles = [func.percentile_cont(q).within_group(cast(Job.duration_ms, Float)) for q in QUANTILES]
    for row in session.execute(select(*keys, *quantiles).where(*where).group_by(*keys)):
        values = row[len(keys) :]
        result[key(row)].exact = {q: v for q, v in zip(QUANTILES, values, strict=True) if v is not None}
    return result


def _python_tallies(session: Session, ranges: Ranges, actor: str | None, by_hour: bool) -> dict:
    columns = (Job.actor_name, Job.status, Job.retries, Job.duration_ms, Job.updated_at)
    durations: dict = {}
    result: dict = {}
    for name, status, retries, duration, finished in session.execute(
        select(*columns).where(*_where(ranges, actor)).execution_options(yield_per=10_000)
    ):
        key = (name, finished.replace(minute=0, second=0, microsecond=0)) if by_hour else name
        timed = duration is not None
        result.setdefault(key, Tally()).count(status, 1, retries or 0, int(timed), duration or 0.0, duration)
        if timed:
            result[key].histogram[bucket_of(duration)] += 1
            durations.setdefault(key, []).append(duration)
    for key, values in durations.items():
        values.sort()
        result[key].exact = {q: _exact_percentile(values, q) for q in QUANTILES}
    return result


def _exact_percentile(values: list[float], q: float) -> float:
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
