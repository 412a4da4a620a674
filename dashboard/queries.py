"""What the dashboard reads from the job ledger: pages of jobs, one job, and per-minute counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.orm import Session, aliased

from domain import ledger, queue_samples
from domain.errors import InvalidArgument, NotFound
from domain.models.base import utcnow
from domain.models.jobs import FINAL_STATUSES, SEARCH_TEXT, Job, JobStatus

#: The dramatiq-dashboard tabs of a queue and the ledger statuses each one shows.
TABS: dict[str, tuple[str, ...]] = {
    "standard": (JobStatus.ENQUEUED, JobStatus.RUNNING, JobStatus.DONE, JobStatus.SKIPPED),
    "delayed": (JobStatus.DELAYED, JobStatus.RETRYING),
    "failed": (JobStatus.DEAD,),
}
STATUSES = tuple(status.value for status in JobStatus)


def tab_of(status: str) -> str:
    """The queue tab a job of `status` is listed on."""
    return next((tab for tab, statuses in TABS.items() if status in statuses), "standard")
MAX_PER_PAGE = 200
#: The statuses of the rows the trigram index holds (domain.models.jobs.SEARCH_INDEXED).
SEARCH_INDEXED_STATUSES = sorted(status.value for status in FINAL_STATUSES)
#: The others, named (not NOT IN), so that the (status, updated_at) index finds them.
UNFINISHED_STATUSES = sorted(status.value for status in JobStatus if status not in FINAL_STATUSES)


@dataclass(frozen=True)
class JobFilter:
    """Which jobs a page or an API call lists."""

    queue: str | None = None
    tab: str | None = None
    actor: str | None = None
    status: str | None = None
    text: str | None = None
    page: int = 1
    per_page: int = 50
    id_prefix: str | None = None
    since: datetime | None = None  # enqueued at or after
    until: datetime | None = None  # enqueued before

    def __post_init__(self) -> None:
        if self.tab is not None and self.tab not in TABS:
            raise InvalidArgument(f"Unknown tab {self.tab!r}; use one of {', '.join(TABS)}.")
        if self.status and self.status not in STATUSES:
            raise InvalidArgument(f"Unknown status {self.status!r}; use one of {', '.join(STATUSES)}.")
        if self.page < 1 or not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidArgument(f"page must be ≥ 1 and per_page between 1 and {MAX_PER_PAGE}.")
        if self.since and self.until and self.since >= self.until:
            raise InvalidArgument("The time range is empty: `since` must be before `until`.")

    def query_string(self, **changes: object) -> str:
        """The filter as URL parameters (for links to other pages of the same list)."""
        values = {
            "actor": self.actor,
            "status": self.status,
            "text": self.text,
            "id": self.id_prefix,
            "since": self.since.strftime("%Y-%m-%dT%H:%M") if self.since else None,
            "until": self.until.strftime("%Y-%m-%dT%H:%M") if self.until else None,
            "page": self.page,
            **changes,
        }
        return urlencode({key: value for key, value in values.items() if value})


@dataclass(frozen=True)
class JobPage:
    jobs: list[Job]
    has_next: bool


#: A search by text or id prefix first looks among this many newest jobs of the other filters: a
#: common word fills its page there at once, where the trigram index would fetch every match and
#: sort them; a rare word (or a later page) that the window cannot fill goes to the index.
RECENT_WINDOW = 5000


def list_jobs(session: Session, where: JobFilter) -> JobPage:
    """Newest first, one page; fetching one row more than the page says whether another follows."""
    statement = select(Job)
    if where.queue:
        statement = statement.where(Job.queue_name == where.queue)
    if where.tab:
        statement = statement.where(Job.status.in_(TABS[where.tab]))
    if where.status:
        statement = statement.where(Job.status == where.status)
    if where.actor:
        statement = statement.where(Job.actor_name == where.actor)
    if where.since:
        statement = statement.where(Job.enqueued_at >= where.since)
    if where.until:
        statement = statement.where(Job.enqueued_at < where.until)
    # One expression, the one the trigram index of migration 0013 is on: id, arguments and error.
    searched = literal_column(SEARCH_TEXT)
    matches = []
    if where.id_prefix:
        matches.append(searched.like(f"{_escape_like(where.id_prefix)}%", escape="\\"))
    if where.text:
        matches.append(searched.ilike(f"%{_escape_like(where.text)}%", escape="\\"))
    if not matches:
        return _page(session, [_slice(statement.order_by(*_newest(Job)))], where)
    if where.text:  # (an id prefix alone matches a job or a few: no window fills with them)
        recent = statement.order_by(*_newest(Job)).limit(RECENT_WINDOW).subquery("recent")
        job = aliased(Job, recent)
        page = _page(session, [_slice(select(job).where(*matches).order_by(*_newest(job)))], where)
        if page.has_next:  # the page is full: every later match is older than the window
            return page
    # Finished jobs through the trigram index (it holds only them), the others (few) by their status.
    finished = statement.where(*matches, Job.status.in_(SEARCH_INDEXED_STATUSES))
    unfinished = statement.where(*matches, Job.status.in_(UNFINISHED_STATUSES))
    return _page(session, [_matches_first(part) for part in (finished, unfinished)], where)


#: A statement of one page: (offset, limit) -> SELECT of Job rows, newest first.
Slice = Callable[[int, int], Select]


def _slice(statement: Select) -> Slice:
    return lambda offset, limit: statement.offset(offset).limit(limit)


def _matches_first(statement: Select) -> Slice:
    """`statement`'s rows newest first, its filter evaluated first, through its indexes.

    Left to itself PostgreSQL guesses that a pattern matches one row in 200, and walks the newest
    jobs until it has a page: with a rare word or an id prefix, that is every row. Materialized,
    the matches are found by the trigram (or status) index, only their keys are sorted, and only
    the page's rows are read back, each by its key (message id and day: one partition's index)."""
    found = (
        statement.with_only_columns(Job.message_id, Job.enqueued_at)
        .cte("found")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )

    def page(offset: int, limit: int) -> Select:
        keys = select(found).order_by(*_newest(found.c)).offset(offset).limit(limit).subquery("keys")
        same_row = (Job.message_id == keys.c.message_id) & (Job.enqueued_at == keys.c.enqueued_at)
        return select(Job).join(keys, same_row).order_by(*_newest(keys.c))

    return page


def _newest(job) -> tuple:
    return job.enqueued_at.desc(), job.message_id.desc()


def _page(session: Session, slices: list[Slice], where: JobFilter) -> JobPage:
    """One page of the newest rows of `slices` (each newest first) taken together."""
    offset = (where.page - 1) * where.per_page
    if len(slices) == 1:
        rows = list(session.scalars(slices[0](offset, where.per_page + 1)))
    else:  # the newest `wanted` of each, merged
        wanted = offset + where.per_page + 1
        rows = [row for page in slices for row in session.scalars(page(0, wanted))]
        rows.sort(key=lambda job: (job.enqueued_at, job.message_id), reverse=True)
        rows = rows[offset:wanted]
    return JobPage(rows[: where.per_page], len(rows) > where.per_page)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_job(session: Session, message_id: str) -> Job:
    job = ledger.find_job(session, message_id)
    if job is None:
        raise NotFound(f"Job {message_id!r} not found.")
    return job


def timeline(job: Job) -> list[dict]:
    """The state changes the ledger row keeps (the latest attempt's times; earlier ones as a count)."""
    events = [{"state": "enqueued", "at": job.enqueued_at, "worker": None}]
    if job.eta:
        label = f"retry {job.retries} due" if job.retries else "delayed until"
        events.append({"state": label, "at": job.eta, "worker": None})
    if job.started_at:
        label = f"running (attempt {job.retries + 1})"
        events.append({"state": label, "at": job.started_at, "worker": job.worker_id})
    if job.finished_at:
        events.append({"state": job.status, "at": job.finished_at, "worker": job.worker_id})
    elif job.status not in ("enqueued", "running", "delayed"):
        events.append({"state": job.status, "at": job.updated_at, "worker": job.worker_id})
    return sorted(events, key=lambda e: e["at"])


def recent_failures(session: Session, *, limit: int = 10) -> list[Job]:
    statement = select(Job).where(Job.status == JobStatus.DEAD).order_by(Job.updated_at.desc()).limit(limit)
    return list(session.scalars(statement))


def finished_per_minute(session: Session, *, minutes: int = 60, now: datetime | None = None) -> dict:
    """{status: [count per minute, oldest first]} for jobs that finished in the last `minutes`."""
    now = (now or utcnow()).replace(second=0, microsecond=0) + timedelta(minutes=1)
    since = now - timedelta(minutes=minutes)
    rows = session.execute(
        select(Job.status, Job.finished_at)
        # updated_at (indexed with status) is written with finished_at: it narrows the scan.
        .where(
            Job.status.in_((JobStatus.DONE, JobStatus.DEAD)),
            Job.updated_at >= since,
            Job.finished_at >= since,
        )
        .execution_options(yield_per=10_000)
    )
    series = {JobStatus.DONE.value: [0] * minutes, JobStatus.DEAD.value: [0] * minutes}
    for status, finished in rows:
        index = int((finished - since).total_seconds() // 60)
        if 0 <= index < minutes:
            series[status][index] += 1
    return {"since": since, "minutes": minutes, "series": series}


def jobs_by_actor_and_status(session: Session) -> list[tuple[str, str, int]]:
    statement = select(Job.actor_name, Job.status, func.count()).group_by(Job.actor_name, Job.status)
    return [tuple(row) for row in session.execute(statement)]


def durations(session: Session, *, since: datetime) -> list[tuple[str, float]]:
    """(actor, duration in seconds) of jobs finished since `since`."""
    statement = select(Job.actor_name, Job.duration_ms).where(
        Job.finished_at >= since, Job.duration_ms.is_not(None)
    )
    return [(actor, ms / 1000) for actor, ms in session.execute(statement)]


def parse_time(value: str | None, name: str) -> datetime | None:
    """A time from a form or a URL (`2026-12-03T15:00`, ISO 8601; UTC unless it names a zone)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(f"{name} must be a time like 2026-12-03T15:00 (UTC), not {value!r}.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Backlog:
    since: datetime
    lines: dict[str, list[tuple[datetime, int]]]  # queue: (sampled at, ready messages)
    oldest_ages: dict[str, str]  # queue: age of its oldest waiting job, readable


def backlog(
    session: Session, queues: list[str], *, minutes: int = 60, now: datetime | None = None
) -> Backlog:
    """The queues' sampled depth over the last `minutes`, and how long their oldest job has waited."""
    now = now or utcnow()
    since = now - timedelta(minutes=minutes)
    lines: dict[str, list[tuple[datetime, int]]] = {}
    for sample in queue_samples.recent(session, since=since):
        if sample.ready is not None:
            lines.setdefault(sample.queue_name, []).append((sample.sampled_at, sample.ready))
    oldest = queue_samples.oldest_waiting(session, queues)
    return Backlog(since, lines, {queue: _age(now - enqueued) for queue, enqueued in oldest.items()})


def _age(delta: timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
