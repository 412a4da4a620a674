"""SQLAlchemy models; importing this package registers every table on `Base.metadata`."""

from domain.models.base import Base
from domain.models.jobs import Job, JobStatus, WorkerHeartbeat
from domain.models.periodic import PeriodicRun

__all__ = ["Base", "Job", "JobStatus", "PeriodicRun", "WorkerHeartbeat"]
