"""Fixtures for every test: service discovery, a vhost and a schema of one's own, worker processes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import create_engine, text

import actors
from broker import runtime
from broker.settings import Settings
from domain import db, migrate
from tests.support.image_server import ImageServer
from tests.support.processes import worker_command
from tests.support.smtp import SmtpServer
from tests.support.vhosts import VhostPool

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_BROKER_URL = os.environ.get("BOOKJOBS_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
TEST_DATABASE_URL = os.environ.get(
    "BOOKJOBS_TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("BOOKJOBS_REQUIRE_SERVICES") == "1"
TEST_MODULES = ("tests.support.actors",)


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def require(service: str, url: str, default_port: int) -> None:
    """Skip (or fail, when BOOKJOBS_REQUIRE_SERVICES=1) unless `service` answers at `url`."""
    if _answers(url, default_port):
        return
    reason = f"{service} is not answering at {url}: start it, or set BOOKJOBS_TEST_*_URL."
    if REQUIRE_SERVICES:
        pytest.fail(reason)
    pytest.skip(reason)


# --- unit-test broker -------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database of this test's own."""
    url = f"sqlite:///{tmp_path / 'bookjobs.db'}"
    migrate.upgrade(db.configure(url))
    return url


@pytest.fixture
def stub_broker(sqlite_url: str) -> Iterator[StubBroker]:
    """Every actor on an in-memory broker with the full middleware list, the ledger on SQLite."""
    import tests.support.actors as test_actors

    settings = Settings(broker_url="memory://", database_url=sqlite_url, heartbeat_interval=0.2)
    broker = runtime.configure(settings)
    runtime.rebind_actors(broker, [*actors.all_actors(), *test_actors.all_actors()])
    broker.emit_after("process_boot")
    yield broker
    broker.flush_all()
    broker.close()


@pytest.fixture
def stub_worker(stub_broker: StubBroker) -> Iterator[dramatiq.Worker]:
    """Worker threads consuming from the stub broker."""
    worker = dramatiq.Worker(stub_broker, worker_timeout=50, worker_threads=4)
    worker.start()
    yield worker
    worker.stop()


# --- real services -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def vhost_pool() -> Iterator[VhostPool]:
    """Test vhosts made and removed in batches (see tests/support/vhosts.py)."""
    pool = VhostPool(urlsplit(TEST_BROKER_URL).username or "guest")
    yield pool
    pool.close()


@pytest.fixture
def rabbitmq_vhost(vhost_pool: VhostPool) -> Iterator[str]:
    """A broker URL pointing at a fresh RabbitMQ vhost, deleted afterwards."""
    require("RabbitMQ", TEST_BROKER_URL, 5672)
    if shutil.which("rabbitmqctl") is None:
        message = "rabbitmqctl is not on PATH; it is needed to create a vhost per test."
        pytest.fail(message) if REQUIRE_SERVICES else pytest.skip(message)
    vhost = vhost_pool.take()
    yield f"{TEST_BROKER_URL.rstrip('/')}/{quote(vhost, safe='')}"
    vhost_pool.give_back(vhost)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A database URL whose search_path is a fresh, migrated PostgreSQL schema, dropped afterwards."""
    require("PostgreSQL", TEST_DATABASE_URL.replace("postgresql+psycopg2", "postgresql"), 5432)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    url = f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{schema}"
    migrate.upgrade(db.configure(url))
    yield url
    db.get_engine().dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def service_settings(rabbitmq_vhost: str, postgres_url: str) -> Settings:
    """Settings for the real RabbitMQ vhost and PostgreSQL schema of this test."""
    return Settings(broker_url=rabbitmq_vhost, database_url=postgres_url, heartbeat_interval=0.5)


@pytest.fixture
def service_env(service_settings: Settings) -> dict[str, str]:
    """The environment a bookjobs process needs to use this test's services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BROKER_", "DATABASE_"))}
    env.update(
        BROKER_URL=service_settings.broker_url,
        DATABASE_URL=service_settings.database_url,
        BOOKJOBS_HEARTBEAT_SECONDS=str(service_settings.heartbeat_interval),
        PYTHONPATH=str(REPO_ROOT),
    )
    return env


@pytest.fixture
def rabbitmq_broker(service_settings: Settings) -> Iterator[dramatiq.Broker]:
    """This test process as an app: every actor bound to the real RabbitMQ broker."""
    with app_broker(service_settings) as broker:
        yield broker


@contextmanager
def app_broker(settings: Settings) -> Iterator[dramatiq.Broker]:
    """Every actor (bookjobs' and the tests') bound to a broker configured for `settings`; its ledger
    writer and connections closed afterwards."""
    import tests.support.actors as test_actors

    broker = runtime.configure(settings)
    runtime.rebind_actors(broker, [*actors.all_actors(), *test_actors.all_actors()])
    try:
        yield broker
    finally:
        for middleware in broker.middleware:
            if hasattr(middleware, "writer"):
                middleware.writer.close()
        broker.close()


class WorkerProcess:
    """A real `bookjobs worker` process of this test."""

    def __init__(
        self,
        env: dict[str, str],
        processes: int,
        threads: int,
        log_path: Path,
        queues: tuple[str, ...] = (),
        options: tuple[str, ...] = (),
    ) -> None:
        self.log_path = log_path
        queue_options = (arg for queue in queues for arg in ("--queues", queue))
        extra = ("--shutdown-timeout", "5000", *queue_options, *options)
        command = worker_command(processes=processes, threads=threads, modules=TEST_MODULES, extra=extra)
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=REPO_ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, expected_workers: int, timeout: float = 30.0) -> None:
        """Block until `expected_workers` worker processes of this process group beat."""
        from domain import ledger

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited early:\n{self.log_path.read_text()[-3000:]}")
            with db.session_scope() as session:
                alive = [w for w in ledger.workers(session) if w.pid in self.child_pids()]
            if len(alive) >= expected_workers:
                return
            time.sleep(0.1)
        raise AssertionError(f"worker not ready in {timeout} s:\n{self.log_path.read_text()[-3000:]}")

    def child_pids(self) -> set[int]:
        result = subprocess.run(["pgrep", "-g", str(self.pid)], capture_output=True, text=True)
        return {int(pid) for pid in result.stdout.split()} - {self.pid}

    def kill(self) -> None:
        """SIGKILL the whole process group: a machine that vanished mid-job."""
        os.killpg(self.pid, 9)
        self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM to the main process only, as `docker stop` does (dramatiq kills a worker that
        receives a second SIGTERM, so signalling the whole group would not be a graceful stop)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, 9)
                self.process.wait(10)
        self._log.close()


@pytest.fixture
def start_worker(service_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real worker processes on this test's services; all are stopped afterwards."""
    started: list[WorkerProcess] = []

    def start(
        processes: int = 1,
        threads: int = 4,
        queues: tuple[str, ...] = (),
        options: tuple[str, ...] = (),
        **env: str,
    ) -> WorkerProcess:
        log_path = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess({**service_env, **env}, processes, threads, log_path, queues, options)
        started.append(worker)
        worker.wait_ready(processes)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback; `reply_next` scripts 4xx/5xx answers."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def image_server() -> Iterator[ImageServer]:
    """A pollinations-style HTTP image API on loopback; `answer_next` scripts its answers."""
    server = ImageServer()
    server.start()
    yield server
    server.stop()
