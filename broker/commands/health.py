"""`bookjobs health`: exit 0 when this host's bookjobs is healthy (container health checks)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import click

from broker.commands.common import clear_errors, load_settings, require_database
from broker.inspect import BrokerInspector
from broker.workers import HOSTNAME
from domain import db, ledger

#: Touched by `bookjobs scheduler` every round (at most 30 s apart); `health --scheduler` reads its age.
SCHEDULER_HEARTBEAT = Path(tempfile.gettempdir()) / "bookjobs-scheduler.heartbeat"
#: A scheduler silent this long is taken for dead (three of its longest sleeps).
SCHEDULER_SILENT_AFTER = 90.0


@click.command()
@click.option("--worker", "check_worker", is_flag=True, help="Also require a fresh heartbeat from this host.")
@click.option(
    "--scheduler",
    "check_scheduler",
    is_flag=True,
    help="Also require a scheduler on this host to have run a round within 90 s.",
)
@click.option("--dashboard", "dashboard_url", help="Also require this URL to answer.")
@clear_errors
def health(check_worker: bool, check_scheduler: bool, dashboard_url: str | None) -> None:
    """Check that the broker and the database answer (and, with --worker or --scheduler, that a
    worker or the scheduler here is alive)."""
    settings = load_settings()
    require_database(settings)
    if settings.broker_url.startswith("amqp"):
        BrokerInspector(settings.broker_url).close()
    db.configure(settings.database_url)
    with db.session_scope() as session:
        mine = [w for w in ledger.workers(session) if w.hostname == HOSTNAME]
        fresh = [w for w in mine if not ledger.is_stale(w, interval_seconds=settings.heartbeat_interval)]
    if check_worker and not fresh:
        raise click.ClickException(f"No fresh worker heartbeat from {HOSTNAME!r}.")
    if check_scheduler:
        check_scheduler_heartbeat()
    if dashboard_url:
        import urllib.request

        with urllib.request.urlopen(dashboard_url, timeout=10) as answer:  # raises on 4xx/5xx
            answer.read()
    click.echo("healthy")


def check_scheduler_heartbeat(path: Path = SCHEDULER_HEARTBEAT) -> None:
    """ClickException unless the scheduler of this host touched `path` within SCHEDULER_SILENT_AFTER."""
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        raise click.ClickException(f"No scheduler runs here: {str(path)!r} does not exist.") from None
    if age > SCHEDULER_SILENT_AFTER:
        raise click.ClickException(f"The scheduler's last round was {age:.0f} s ago ({str(path)!r}).")
