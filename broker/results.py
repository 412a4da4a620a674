"""A dramatiq result backend that reads results from the job ledger."""

from __future__ import annotations

from collections.abc import Callable

from dramatiq.results import ResultBackend
from dramatiq.results.backend import Missing
from sqlalchemy import Engine, select

from domain.models.jobs import Job, JobStatus

FAILURE_MARKER = "dramatiq.results.Result"


class LedgerResultBackend(ResultBackend):
    """`message.get_result()` answered from `bookjobs_jobs`; the Ledger middleware does the storing."""

    def __init__(self, *, engine_factory: Callable[[], Engine]) -> None:
        super().__init__(namespace="bookjobs")
        self.engine_factory = engine_factory

    def build_message_key(self, message) -> str:
        return message.message_id

    def _get(self, message_key: str):
        statement = select(Job.status, Job.result, Job.error_type, Job.error_message).where(
            Job.message_id == message_key
        )
        with self.engine_factory().connect() as connection:
            row = connection.execute(statement).first()
        if row is None:
            return Missing
        if row.status == JobStatus.DONE:
            return row.result
        if row.status == JobStatus.DEAD:
            # The shape dramatiq's unwrap_result turns into ResultFailure("actor raised Type: message").
            return {"__t": FAILURE_MARKER, "exn": {"type": row.error_type, "msg": row.error_message}}
        return Missing

    def _store(self, message_key: str, result, ttl: int) -> None:
        """Nothing to do: the Ledger middleware already writes results and failures."""
