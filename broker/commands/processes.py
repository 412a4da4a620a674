"""`bookjobs worker` and `bookjobs up`: the long-running processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import click

from broker.commands.common import clear_errors, load_actors, load_settings
from broker.commands.dashboard import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    build_server,
    check_binding,
    check_port_free,
    serve_in_thread,
)
from broker.commands.demo import run_demo
from broker.commands.embedded import EmbeddedRuntime
from broker.errors import ConfigError
from broker.settings import Settings
from domain import db, migrate


@click.command()
@click.option("--queues", "-Q", multiple=True, help="Queues to consume (repeatable; default: all).")
@click.option("--processes", "-p", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--threads", "-t", type=click.IntRange(min=1), default=8, show_default=True)
@click.option(
    "--prefetch",
    type=click.IntRange(min=0),
    default=0,
    help="Messages each consumer may hold unacked, on every queue "
    "(default: the queue's policy, 25 × threads for short jobs, 2 × threads for books, images, cleanup).",
)
@click.option(
    "--module", "-m", "modules", multiple=True, help="Also import this module (your own actors); repeatable."
)
@click.option(
    "--max-jobs-per-child",
    type=click.IntRange(min=0),
    default=None,
    help="Replace a worker process after this many jobs, one process at a time (0: never; "
    "default BOOKJOBS_MAX_JOBS_PER_CHILD or 0).",
)
@click.option(
    "--max-memory-per-child",
    type=click.IntRange(min=0),
    default=None,
    help="Replace a worker process once its resident memory passes this many MB (0: never; "
    "default BOOKJOBS_MAX_MEMORY_PER_CHILD_MB or 0).",
)
@click.option(
    "--shutdown-timeout",
    type=click.IntRange(min=0),
    default=600_000,
    show_default=True,
    help="Milliseconds in-flight jobs get to finish after SIGTERM before they are requeued.",
)
@clear_errors
def worker(
    queues: tuple[str, ...],
    processes: int,
    threads: int,
    prefetch: int,
    modules: tuple[str, ...],
    max_jobs_per_child: int | None,
    max_memory_per_child: int | None,
    shutdown_timeout: int,
) -> None:
    """Run dramatiq worker processes over every actor; one that dies is restarted alone."""
    # Worker processes read their settings from the environment they inherit.
    if max_jobs_per_child is not None:
        os.environ["BOOKJOBS_MAX_JOBS_PER_CHILD"] = str(max_jobs_per_child)
    if max_memory_per_child is not None:
        os.environ["BOOKJOBS_MAX_MEMORY_PER_CHILD_MB"] = str(max_memory_per_child)
    settings = load_settings()
    if settings.is_embedded:
        raise ConfigError(
            "`bookjobs worker` needs a real broker, but BROKER_URL is memory://. "
            "Set BROKER_URL=amqp://... or run everything in one process with `bookjobs up`."
        )
    import dramatiq.worker
    from dramatiq.cli import make_argument_parser

    from broker.hard_limits import HardLimits
    from broker.supervisor import Supervisor

    if prefetch:
        # Read by each Worker and by broker.rabbitmq.queue_prefetch; worker processes are forks of this one.
        dramatiq.worker.QUEUE_PREFETCH = prefetch

    argv = [
        "actors",
        *modules,
        "--processes",
        str(processes),
        "--threads",
        str(threads),
        "--worker-shutdown-timeout",
        str(shutdown_timeout),
        "--skip-logging",
    ]
    if queues:
        argv += ["--queues", *queues]
    hard_limits = HardLimits(settings.database_url) if settings.ledger_enabled else None
    parsed = make_argument_parser().parse_args(argv)
    sys.exit(Supervisor(parsed, processes=processes, hard_limits=hard_limits).run())


@click.command()
@click.option(
    "--threads",
    "-t",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Worker threads of the embedded runtime.",
)
@click.option(
    "--processes",
    "-p",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Worker processes when BROKER_URL points at a real broker.",
)
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address of the dashboard.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True, help="Its port."
)
@click.option("--no-dashboard", is_flag=True, help="Do not serve the dashboard.")
@click.option("--demo", is_flag=True, help="Load a demo book, reader and sessions, and send their jobs.")
@click.option(
    "--module",
    "-m",
    "modules",
    multiple=True,
    help="Also import this module (your own actors) in the worker, scheduler and dashboard; repeatable.",
)
@clear_errors
def up(
    threads: int,
    processes: int,
    host: str,
    port: int,
    no_dashboard: bool,
    demo: bool,
    modules: tuple[str, ...],
) -> None:
    """Run the whole system: embedded in one process by default, real processes with BROKER_URL=amqp://."""
    settings = load_settings()
    if not no_dashboard:
        check_binding(settings, host)
        if port:
            check_port_free(host, port)
    if settings.is_embedded:
        _run_embedded(
            EmbeddedRuntime(settings, worker_threads=threads, modules=modules),
            None if no_dashboard else (host, port),
            demo,
        )
    else:
        migrate.upgrade(db.configure(settings.database_url))
        extra = [arg for module in modules for arg in ("--module", module)]
        commands = [["worker", "--processes", str(processes), *extra], ["scheduler", *extra], ["relay"]]
        if not no_dashboard:
            commands.append(["dashboard", "--host", host, "--port", str(port), *extra])
        _supervise(commands, settings if demo else None)


def _run_embedded(embedded: EmbeddedRuntime, address: tuple[str, int] | None, demo: bool) -> None:
    stop = _stop_on_signals()
    broker = embedded.start()
    server = None
    try:
        from actors.monitoring import health_check

        message = health_check.send()
        result = message.get_result(block=True, timeout=30_000)
        click.echo(
            f"bookjobs is up (embedded: in-memory broker, {embedded.worker_threads} worker threads, "
            f"database {embedded.settings.database_url})."
        )
        click.echo(f"health_check {message.message_id} done: {json.dumps(result)}")
        if address:
            server = build_server(embedded.settings, broker, *address)
            serve_in_thread(server)
            click.echo(f"Dashboard: http://{address[0]}:{server.servers[0].sockets[0].getsockname()[1]}/")
        if demo:
            run_demo(embedded.settings)
        click.echo("Press Ctrl-C to stop.")
        stop.wait()
    finally:
        if server is not None:
            server.should_exit = True
        embedded.stop()
        click.echo("bookjobs stopped.")


def _supervise(commands: list[list[str]], demo_settings: Settings | None = None) -> None:
    """Start `bookjobs` sub-`commands`; stop all of them when one ends or this process is told to stop."""
    stop = _stop_on_signals()
    # Each child in a process group of its own: Ctrl-C reaches only this process, which tells each
    # child once (SIGTERM), instead of every child getting the terminal's SIGINT and then SIGTERM.
    children = [
        subprocess.Popen([sys.executable, "-m", "broker", *command], process_group=0) for command in commands
    ]
    for command, child in zip(commands, children, strict=True):
        click.echo(f"bookjobs is up: `bookjobs {' '.join(command)}` (pid {child.pid}).")
    if demo_settings is not None:
        load_actors(demo_settings)
        run_demo(demo_settings)
    while not stop.wait(0.5):
        if any(child.poll() is not None for child in children):
            break
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        child.wait()
    click.echo("bookjobs stopped.")
    sys.exit(max(child.returncode or 0 for child in children) if not stop.is_set() else 0)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop
