"""Monitoring services: liveness answers and (later) system statistics."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from domain.models.base import utcnow


@dataclass(frozen=True)
class HealthReport:
    """What a worker answers when asked whether it is alive."""

    status: str
    worker_id: str
    timestamp: str
    response_time_ms: float

    def as_dict(self) -> dict:
        return asdict(self)


def health_report(*, worker_id: str, asked_at: datetime | None) -> HealthReport:
    """A healthy answer from `worker_id`; response time counts from `asked_at` (when the job was sent)."""
    now = utcnow()
    elapsed_ms = (now - asked_at).total_seconds() * 1000 if asked_at else 0.0
    return HealthReport(
        status="healthy",
        worker_id=worker_id,
        timestamp=now.isoformat().replace("+00:00", "Z"),
        response_time_ms=round(max(elapsed_ms, 0.0), 3),
    )
