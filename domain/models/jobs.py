"""The job ledger: one row per message, and one row per live worker process."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from domain.models.base import Base, JSONType, UTCDateTime


class JobStatus(enum.StrEnum):
    """Where a message is in its life."""

    ENQUEUED = "enqueued"
    DELAYED = "delayed"
    RUNNING = "running"
    RETRYING = "retrying"
    DONE = "done"
    DEAD = "dead"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


#: Final states: nothing that happens to an attempt after them can change the row.
FINAL_STATUSES = frozenset({JobStatus.DONE, JobStatus.DEAD, JobStatus.SKIPPED, JobStatus.CANCELLED})
#: States a cancel applies to: waiting (cancelled at once) or running (aborted by its worker).
CANCELLABLE_STATUSES = frozenset(
    {JobStatus.ENQUEUED, JobStatus.DELAYED, JobStatus.RETRYING, JobStatus.RUNNING}
)


#: What the dashboard's search reads of a row, as one string: the id first (so an id prefix is an
#: anchored match), then arguments and error. Migration 0013 puts a trigram (pg_trgm) index on
#: exactly this expression of finished jobs (SEARCH_INDEXED) on PostgreSQL; it is not declared
#: below, as SQLite has no such index.
SEARCH_TEXT = (
    "(message_id || ' ' || CAST(args AS TEXT) || ' ' || CAST(kwargs AS TEXT) || ' ' "
    "|| COALESCE(error_type, '') || ' ' || COALESCE(error_message, ''))"
)

#: The rows the trigram index holds: finished ones, whose row no longer changes.
SEARCH_INDEXED = "status IN (" + ", ".join(f"'{s.value}'" for s in sorted(FINAL_STATUSES)) + ")"


class Job(Base):
    """One message's life: what ran, where, when, and how it ended."""

    __tablename__ = "bookjobs_jobs"

    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    queue_name: Mapped[str] = mapped_column(String(200))
    actor_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    #: Orders events so a late one never moves a row backwards: retries × 10 + the rank of the status.
    progress: Mapped[int] = mapped_column(Integer, default=0)
    args: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    eta: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    worker_id: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[Any | None] = mapped_column(JSONType)
    error_type: Mapped[str | None] = mapped_column(String(200))
    error_message: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Deliveries of this message acked without running because the job had already finished.
    #: Kept by its own UPDATE, never by the ledger's upsert (see broker.ledger.COLUMNS).
    duplicates_suppressed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: When and by whom a cancel was asked (`bookjobs cancel`, the API, the dashboard); kept by the
    #: cancel's own UPDATE, never by the upsert. Workers poll the recent ones to skip or abort jobs.
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(200))
    #: What the job said of its own progress (`broker.jobs.progress`): `progress_done` of
    #: `progress_total` steps, and a word for them. Kept by its own UPDATE, never by the upsert.
    progress_done: Mapped[int | None] = mapped_column(Integer)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    progress_note: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_bookjobs_jobs_queue_status_enqueued", "queue_name", "status", "enqueued_at"),
        Index("ix_bookjobs_jobs_status_updated", "status", "updated_at"),
        Index("ix_bookjobs_jobs_actor_enqueued", "actor_name", "enqueued_at"),
        Index("ix_bookjobs_jobs_queue_enqueued", "queue_name", "enqueued_at"),  # dashboard queue pages
        Index("ix_bookjobs_jobs_enqueued", "enqueued_at"),  # the dashboard's search across queues
        Index(  # workers poll the recent cancels twice a second: only the few rows that have one
            "ix_bookjobs_jobs_cancels",
            "cancel_requested_at",
            postgresql_where=text("cancel_requested_at IS NOT NULL"),
            sqlite_where=text("cancel_requested_at IS NOT NULL"),
        ),
        Index(  # /metrics sums the suppressed duplicates: only the few rows that had any
            "ix_bookjobs_jobs_duplicates",
            "actor_name",
            postgresql_where=text("duplicates_suppressed > 0"),
            sqlite_where=text("duplicates_suppressed > 0"),
        ),
    )


class WorkerHeartbeat(Base):
    """A worker process that said it is alive at `last_seen`."""

    __tablename__ = "bookjobs_workers"

    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    queues: Mapped[list[str]] = mapped_column(JSONType, default=list)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    in_flight: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    #: Messages this process holds and has not started (prefetched), at most 100: `inspect reserved`.
    reserved: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    rss_mb: Mapped[float | None] = mapped_column(Float)


class ActorHour(Base):
    """One actor's finished jobs in one closed hour, rolled up from the ledger for the actors page.

    `histogram` counts durations in log buckets (`domain.ledger_tallies.bucket_of`), so percentiles over
    days need no scan of the ledger.
    """

    __tablename__ = "bookjobs_actor_hours"

    actor_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    dead: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    retried: Mapped[int] = mapped_column(Integer, default=0)
    timed: Mapped[int] = mapped_column(Integer, default=0)
    duration_sum_ms: Mapped[float] = mapped_column(Float, default=0.0)
    duration_max_ms: Mapped[float | None] = mapped_column(Float)
    histogram: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)


class Rollup(Base):
    """How far a rollup has gone: every hour before `through` is in `bookjobs_actor_hours`."""

    __tablename__ = "bookjobs_rollups"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    through: Mapped[datetime] = mapped_column(UTCDateTime)


class QueueSample(Base):
    """A queue's depth and the age of its oldest waiting job at one moment (the overview's backlog chart)."""

    __tablename__ = "bookjobs_queue_samples"

    queue_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    ready: Mapped[int | None] = mapped_column(Integer)
    delayed: Mapped[int | None] = mapped_column(Integer)
    dead: Mapped[int | None] = mapped_column(Integer)
    oldest_age_seconds: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (Index("ix_bookjobs_queue_samples_at", "sampled_at"),)
