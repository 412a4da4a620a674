"""Throw-away RabbitMQ vhosts and PostgreSQL schemas for benchmarks, and bookjobs worker processes."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

from domain import db, migrate
from tests.support.processes import worker_command

REPO_ROOT = Path(__file__).resolve().parent.parent
BROKER_URL = os.environ.get("BOOKJOBS_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
DATABASE_URL = os.environ.get(
    "BOOKJOBS_BENCH_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)


@contextmanager
def vhost() -> Iterator[str]:
    """A broker URL on a new RabbitMQ vhost, deleted afterwards."""
    name = f"bookjobs-bench-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"{BROKER_URL.rstrip('/')}/{quote(name, safe='')}"
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], check=False, capture_output=True)


@contextmanager
def schema(revision: str = "head") -> Iterator[str]:
    """A database URL on a new PostgreSQL schema migrated to `revision`, dropped afterwards."""
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    url = f"{DATABASE_URL}?options=-csearch_path%3D{name}"
    migrate.upgrade(db.configure(url), revision)
    try:
        yield url
    finally:
        db.get_engine().dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@contextmanager
def workers(
    broker_url: str,
    database_url: str,
    *,
    processes: int,
    threads: int = 8,
    ledger: bool = True,
    modules: tuple[str, ...] = ("benchmarks.noop_actors",),
    queues: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
    source_root: Path = REPO_ROOT,
) -> Iterator[subprocess.Popen]:
    """`bookjobs worker` processes (of the code under `source_root`), stopped with SIGTERM afterwards."""
    env = dict(
        os.environ,
        BROKER_URL=broker_url,
        DATABASE_URL=database_url,
        PYTHONPATH=str(source_root),
        BOOKJOBS_LEDGER="1" if ledger else "0",
        **(extra_env or {}),
    )
    extra = tuple(arg for queue in queues for arg in ("--queues", queue))
    command = worker_command(processes=processes, threads=threads, modules=modules, extra=extra)
    process = spawn(command, env, cwd=source_root)
    try:
        yield process
    finally:
        process.terminate()  # the main process only: it stops its workers gracefully
        process.wait(60)


def spawn(command: list[str], env: dict[str, str], cwd: Path = REPO_ROOT) -> subprocess.Popen:
    """A quiet child process in a session of its own, run from the repository (or `cwd`)."""
    return subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_until(probe, timeout: float, interval: float = 0.01, what: str = "") -> float:
    """Poll `probe` until true; return the monotonic time it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return time.monotonic()
        time.sleep(interval)
    raise TimeoutError(f"{what or probe} still not true after {timeout} s")
