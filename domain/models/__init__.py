"""SQLAlchemy models; importing this package registers every table on `Base.metadata`."""

from domain.models.accounts import AuthToken, MentorSession, User
from domain.models.base import Base
from domain.models.books import Book, Chapter, Description
from domain.models.exams import ArchivedAttempt, ArchivedProctoringEvent, Exam, ExamAttempt, ProctoringEvent
from domain.models.images import GeneratedImage
from domain.models.jobs import ActorHour, Job, JobStatus, QueueSample, Rollup, WorkerHeartbeat
from domain.models.mail import OutboxMail
from domain.models.outbox import OutboxMessage
from domain.models.periodic import PeriodicRun
from domain.models.reading import ReadingSession
from domain.models.stats import DailyStats, SystemSnapshot

__all__ = [
    "ActorHour",
    "ArchivedAttempt",
    "ArchivedProctoringEvent",
    "AuthToken",
    "Base",
    "Book",
    "Chapter",
    "DailyStats",
    "Description",
    "Exam",
    "ExamAttempt",
    "GeneratedImage",
    "Job",
    "JobStatus",
    "MentorSession",
    "OutboxMail",
    "OutboxMessage",
    "PeriodicRun",
    "ProctoringEvent",
    "QueueSample",
    "ReadingSession",
    "Rollup",
    "SystemSnapshot",
    "User",
    "WorkerHeartbeat",
]
