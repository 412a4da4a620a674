"""`bookjobs health`: exit 0 when this host's bookjobs is healthy (container health checks)."""

from __future__ import annotations

import click

from broker.commands.common import clear_errors, load_settings
from broker.inspect import BrokerInspector
from broker.workers import HOSTNAME
from domain import db, ledger


@click.command()
@click.option("--worker", "check_worker", is_flag=True, help="Also require a fresh heartbeat from this host.")
@click.option("--dashboard", "dashboard_url", help="Also require this URL to answer.")
@clear_errors
def health(check_worker: bool, dashboard_url: str | None) -> None:
    """Check that the broker and the database answer (and, with --worker, that a worker here beats)."""
    settings = load_settings()
    if settings.broker_url.startswith("amqp"):
        BrokerInspector(settings.broker_url).close()
    db.configure(settings.database_url)
    with db.session_scope() as session:
        mine = [w for w in ledger.workers(session) if w.hostname == HOSTNAME]
        fresh = [w for w in mine if not ledger.is_stale(w, interval_seconds=settings.heartbeat_interval)]
    if check_worker and not fresh:
        raise click.ClickException(f"No fresh worker heartbeat from {HOSTNAME!r}.")
    if dashboard_url:
        import urllib.request

        with urllib.request.urlopen(dashboard_url, timeout=10) as answer:  # raises on 4xx/5xx
            answer.read()
    click.echo("healthy")
