"""`bookjobs scheduler` and `bookjobs schedules`: the counterparts of Celery Beat and its schedule."""

from __future__ import annotations

import json
import signal
import threading

import click

from broker.commands.common import clear_errors, load_actors, load_settings, require_database
from broker.commands.health import SCHEDULER_HEARTBEAT
from broker.errors import ConfigError
from domain import db
from domain.models.base import utcnow


@click.command()
@click.option(
    "--module", "-m", "modules", multiple=True, help="Also import this module (your own actors); repeatable."
)
@clear_errors
def scheduler(modules: tuple[str, ...]) -> None:
    """Send periodic jobs on their cron slots; run as many as you like, each slot is sent once."""
    settings = load_settings()
    if settings.is_embedded:
        raise ConfigError(
            "`bookjobs scheduler` needs a real broker, but BROKER_URL is memory://. "
            "Set BROKER_URL=amqp://... or run everything in one process with `bookjobs up`."
        )
    from periodic.runner import build_scheduler
    from periodic.sampler import QueueSampler

    broker = load_actors(settings, modules)
    runner = build_scheduler(broker)
    stop = threading.Event()
    # Set here whatever the caller left (a shell that ignores SIGINT, nohup): both stop it.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    sampler = QueueSampler(broker, settings.broker_url)
    sampler.start()
    runner.run(stop, on_round=SCHEDULER_HEARTBEAT.touch)
    sampler.stop()
    SCHEDULER_HEARTBEAT.unlink(missing_ok=True)
    broker.close()


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@clear_errors
def schedules(as_json: bool) -> None:
    """Every row of the cron table with its zone, policy, next run, last run and that run's status."""
    from periodic.status import schedule_rows

    settings = load_settings()
    require_database(settings)
    broker = load_actors(settings)
    with db.session_scope() as session:
        rows = schedule_rows(session, declared=set(broker.actors), now=utcnow())
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'actor':<31}{'cron':<15}{'zone':<15}{'missed':<10}{'next run':<27}{'last slot':<27}last")
    for r in rows:
        last = r["last_status"] or ("-" if r["declared"] else "(no such actor yet)")
        click.echo(
            f"{r['actor']:<31}{r['cron']:<15}{r['timezone']:<15}{r['missed_runs']:<10}"
            f"{r['next_run'] or '-':<27}{r['last_slot'] or '-':<27}{last}"
        )
