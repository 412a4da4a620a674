"""SQLAlchemy models; importing this package registers every table on `Base.metadata`."""

from domain.models.accounts import AuthToken, MentorSession, User
from domain.models.base import Base
from domain.models.books import Book, Chapter, Description
from domain.models.jobs import Job, JobStatus, WorkerHeartbeat
from domain.models.mail import OutboxMail
from domain.models.periodic import PeriodicRun

__all__ = [
    "AuthToken",
    "Base",
    "Book",
    "Chapter",
    "Description",
    "Job",
    "JobStatus",
    "MentorSession",
    "OutboxMail",
    "PeriodicRun",
    "User",
    "WorkerHeartbeat",
]
