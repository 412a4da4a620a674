"""The error families every job is judged by: transient ones retry, permanent ones do not."""

from __future__ import annotations


class JobError(Exception):
    """Base class of the errors a job may raise on purpose."""


class TransientError(JobError):
    """A failure that may go away on its own (network, a busy server): retry with backoff."""

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        #: Seconds the other side asked us to wait (HTTP Retry-After), if it said.
        self.retry_after = retry_after


class PermanentError(JobError):
    """A failure that will happen again on every try (bad input, unknown id): dead-letter at once."""


class NotFound(PermanentError):
    """A row the job refers to does not exist."""


class InvalidArgument(PermanentError):
    """A job argument has the wrong type or value."""
