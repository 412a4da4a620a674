"""Helpers shared by the `bookjobs` sub-commands: clear errors, settings, actors, JSON options."""

from __future__ import annotations

import functools
import importlib
import json
import logging
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

import click
import dramatiq.errors
import pika.exceptions
import psycopg2
from sqlalchemy.exc import DBAPIError

from broker import log_filters, runtime
from broker.errors import ConfigError
from broker.settings import Settings
from domain.errors import JobError

#: Failures that get one clear line and a non-zero exit instead of a traceback.
EXPECTED_FAILURES: tuple[type[BaseException], ...] = (
    JobError,
    OSError,
    pika.exceptions.AMQPError,
    dramatiq.errors.BrokerError,
)


def setup_logging(verbose: bool = False) -> None:
    """Configure logging once, the same way in every entry point."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s",
    )
    # pika logs every failed connection attempt with a traceback; bookjobs reports them in one line.
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    log_filters.install()


def clear_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an expected failure into `Error: <what went wrong>` on stderr and exit code 1 (2 for settings)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(2)
        except DBAPIError as error:
            click.echo(f"Error: {describe_database_error(error)}", err=True)
            sys.exit(1)
        except EXPECTED_FAILURES as error:
            click.echo(f"Error: {_describe(error)}", err=True)
            sys.exit(1)

    return wrapper


#: Errors that mean the broker cannot be reached (a raw gaierror comes from its connection too).
BROKER_ERRORS = (pika.exceptions.AMQPError, dramatiq.errors.BrokerError, ConnectionError, socket.gaierror)


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, BROKER_ERRORS):
        return f"cannot reach the broker at {broker_location()} ({root_cause(error)})."
    return text


def broker_location() -> str:
    """host:port/vhost of BROKER_URL, without credentials, for error messages."""
    from urllib.parse import urlsplit

    parts = urlsplit(os.environ.get("BROKER_URL", ""))
    return f"{parts.hostname or '?'}:{parts.port or 5672}{parts.path or '/'}"


def root_cause(error: BaseException) -> str:
    """The innermost reason of a connection error, in words: pika wraps it in layers whose own text
    is only a class name (AMQPConnectionError → AMQPConnectorSocketConnectError → the OSError)."""
    for _ in range(5):
        nested = [arg for arg in error.args if isinstance(arg, BaseException)]
        wrapped = getattr(error, "exception", None)  # pika's connector errors keep theirs here
        if nested:
            error = nested[-1]
        elif isinstance(wrapped, BaseException):
            error = wrapped
        else:
            break
    if isinstance(error, socket.gaierror):
        return f"its host name does not resolve: {error.strerror}"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused: is RabbitMQ running there?"
    if isinstance(error, TimeoutError | socket.timeout):
        return "no answer before the timeout"
    text = str(error).strip()
    name = type(error).__name__
    return f"{name}: {text}" if text and text != name else name


def require_database(settings: Settings) -> None:
    """ConfigError when DATABASE_URL names a SQLite file that does not exist: a read-only command
    would otherwise create an empty database file wherever it was run."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    is_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if is_file and not os.path.exists(url.database):
        raise ConfigError(
            f"The database file {url.database!r} does not exist here: run `bookjobs db upgrade` "
            "first, or set DATABASE_URL to the database bookjobs uses."
        )


def load_settings() -> Settings:
    """Settings from the environment; a bad value becomes a ConfigError naming the variable."""
    return Settings.from_env()


def load_actors(settings: Settings, modules: tuple[str, ...] = ()) -> dramatiq.Broker:
    """Configure this process for `settings`; declare every actor, and those of `modules`, on its broker."""
    broker = runtime.configure(settings)
    import actors

    extra = []
    for name in modules:
        try:
            extra.append(importlib.import_module(name))
        except ImportError as error:
            raise ConfigError(f"Cannot import module {name!r} given with --module: {error}.") from None
    declared = [v for m in extra for v in vars(m).values() if isinstance(v, dramatiq.Actor)]
    runtime.rebind_actors(broker, [*actors.all_actors(), *declared])
    return broker


def flush_ledger(broker: dramatiq.Broker, settings: Settings, *, timeout: float = 10.0) -> None:
    """Write this process's pending ledger events before it exits; warn, naming the database, if
    they cannot be written (the jobs were sent all the same)."""
    from broker.jobs import flush_ledger as flush_now

    if not flush_now(broker, timeout):
        click.echo(
            f"Warning: the job was sent, but its `enqueued` row could not be written to the ledger "
            f"at {redacted_url(settings.database_url)} within {timeout:g} s (is the database up and "
            "migrated, `bookjobs db upgrade`?); the worker will still record the job when it runs.",
            err=True,
        )


def redacted_url(url: str) -> str:
    """`url` without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def parse_json(kind: type, name: str) -> Callable[[click.Context, click.Parameter, str | None], Any]:
    """A click callback that parses a JSON option and checks it is a `kind`."""

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return kind()
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as error:
            _refuse(ctx, f"{name} {value!r} is not valid JSON ({error.msg} at position {error.pos}).")
        if not isinstance(parsed, kind):
            _refuse(ctx, f"{name} must be a JSON {_json_kind(kind)}, got {_json_kind(type(parsed))}.")
        return parsed

    return callback


def _refuse(ctx: click.Context, sentence: str) -> None:
    """One `Error:` line and exit code 2, instead of click's Usage / Try / Error block."""
    click.echo(f"Error: {sentence}", err=True)
    ctx.exit(2)


JSON_KINDS = {list: "list", dict: "object", str: "string", int: "number", float: "number", bool: "boolean"}


def _json_kind(kind: type) -> str:
    return JSON_KINDS.get(kind, kind.__name__)


def describe_database_error(error: BaseException) -> str:
    """One line for a database that cannot be reached, or that is reached but not migrated."""
    original = getattr(error, "orig", None) or error
    first_line = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    if isinstance(original, psycopg2.OperationalError) or "unable to open database" in first_line:
        return f"cannot reach the database at {database_location()} ({first_line}). Is DATABASE_URL right?"
    return (
        f"cannot use the database ({first_line}). Is DATABASE_URL right, and did `bookjobs db upgrade` run?"
    )


def database_location() -> str:
    """DATABASE_URL without its password, for error messages."""
    return redacted_url(os.environ.get("DATABASE_URL") or Settings().database_url)
