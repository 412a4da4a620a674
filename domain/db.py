"""The database engine from `DATABASE_URL` and a transaction-per-block session scope."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DATABASE_URL = "sqlite:///bookjobs.db"

#: A callable giving a transaction-per-block session, like `session_scope`; services take it to own commits.
SessionScope = Callable[[], AbstractContextManager[Session]]

_engine: Engine | None = None
_engine_pid: int | None = None
_url: str | None = None
_sessions: sessionmaker[Session] | None = None


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout so threads can share the file."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgresql_session)
    return engine


def _postgresql_session(dbapi_connection, _record) -> None:
    """No JIT compilation: bookjobs' queries are short, and compiling a plan that spans the ledger's
    day partitions took PostgreSQL 100-200 ms, more than running it."""
    cursor = dbapi_connection.cursor()
    cursor.execute("SET jit = off")
    cursor.close()
    dbapi_connection.commit()  # a SET is undone with the transaction it ran in


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def configure(url: str | None = None) -> Engine:
    """Point this process at `url` (default: $DATABASE_URL) and return the engine."""
    global _engine, _engine_pid, _url, _sessions
    if _engine is not None and _engine_pid == os.getpid():
        _engine.dispose()
    _url = url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    _engine = make_engine(_url)
    _engine_pid = os.getpid()
    _sessions = sessionmaker(_engine, expire_on_commit=False)
    return _engine


def get_engine() -> Engine:
    """This process's engine; a forked child (dramatiq's worker processes) gets a fresh one of its own."""
    if _engine is None:
        return configure()
    if _engine_pid != os.getpid():
        # Connections inherited through fork() are shared with the parent: never touch them.
        _engine.dispose(close=False)
        return configure(_url)
    return _engine


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session whose transaction commits when the block ends and rolls back on error."""
    get_engine()
    assert _sessions is not None
    session = _sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
