"""The hard time limit, enforced from outside: the supervisor kills the worker process of a job stuck
past it.

dramatiq's TimeLimit raises an exception in the job's thread at `time_limit`, which a job blocked in
one long C call (a socket read, a native library) never sees. Once a second the supervisor reads
the ledger's `running` rows of its own children; a job still running `GRACE_SECONDS` past its limit
(recorded in the row by the Ledger middleware) is marked `dead` ("hard time limit") and its process
is killed with SIGKILL. Only that process is restarted; its other jobs go back to the queue, and the
delivery of the killed job that RabbitMQ makes again is acked unrun, since its row is final.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from broker.workers import worker_id_of
from domain.models.base import utcnow
from domain.models.jobs import Job, JobStatus

logger = logging.getLogger("bookjobs.supervisor")

#: How long past its hard limit a job may still run (dramatiq's TimeLimit gets its chance first).
GRACE_SECONDS = 5.0
#: Seconds between two looks.
CHECK_SECONDS = 1.0


class HardLimits:
    """Finds the children whose jobs overran their hard limit and marks those jobs dead."""

    def __init__(self, database_url: str, *, grace_seconds: float = GRACE_SECONDS) -> None:
        # No pool: the supervisor forks new children, which must not inherit an open connection.
        self.engine = create_engine(database_url, poolclass=NullPool)
        self.grace = timedelta(seconds=grace_seconds)

    def overrun(self, pids: list[int]) -> list[int]:
        """The pids to kill; their overrunning jobs are already recorded dead."""
        if not pids:
            return []
        workers = {worker_id_of(pid): pid for pid in pids}
        now = utcnow()
        doomed: set[int] = set()
        with Session(self.engine) as session, session.begin():
            rows = session.execute(
                select(Job.message_id, Job.worker_id, Job.started_at, Job.options).where(
                    Job.status == JobStatus.RUNNING.value, Job.worker_id.in_(workers)
                )
            ).all()
            for row in rows:
                limit_ms = (row.options or {}).get("time_limit")
                if not limit_ms or row.started_at is None:
                    continue
                if now - row.started_at < timedelta(milliseconds=limit_ms) + self.grace:
                    continue
                message = (
                    f"Killed: still running {limit_ms / 1000:g} s after it started (the hard time limit)."
                )
                session.execute(
                    update(Job)
                    .where(Job.message_id == row.message_id, Job.status == JobStatus.RUNNING.value)
                    .values(
                        status=JobStatus.DEAD.value,
                        progress=Job.progress + 2,
                        finished_at=now,
                        updated_at=now,
                        error_type="HardTimeLimit",
                        error_message=message,
                    )
                )
                logger.error(
                    "Job %s on %s passed its hard time limit; killing that process.",
                    row.message_id,
                    row.worker_id,
                )
                doomed.add(workers[row.worker_id])
        return sorted(doomed)
