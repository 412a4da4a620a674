"""Runtime errors and the one rule that decides whether a failed job retries."""

from __future__ import annotations

import smtplib
import socket

import dramatiq
import pika.exceptions
from sqlalchemy import exc as sa_exc

from domain.errors import InvalidArgument, JobError, NotFound, PermanentError, TransientError

__all__ = [
    "ConfigError",
    "InvalidArgument",
    "JobError",
    "NotFound",
    "PermanentError",
    "TransientError",
    "is_transient",
]


class ConfigError(Exception):
    """A setting or a command-line value is wrong; the message names it."""


#: Exceptions from libraries that mean "try again later".
TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    TransientError,
    dramatiq.Retry,
    dramatiq.errors.BrokerConnectionError,
    ConnectionError,
    TimeoutError,
    socket.timeout,
    socket.gaierror,
    sa_exc.OperationalError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    pika.exceptions.AMQPConnectionError,
    pika.exceptions.AMQPChannelError,
)


def is_transient(exception: BaseException) -> bool:
    """True for failures worth retrying; anything unknown is permanent (a bug does not fix itself)."""
    if isinstance(exception, PermanentError):
        return False
    if isinstance(exception, smtplib.SMTPResponseException):
        return 400 <= exception.smtp_code < 500
    return isinstance(exception, TRANSIENT_TYPES)
