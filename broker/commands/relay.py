"""`bookjobs relay`: publish what applications sent with `send_on_commit`."""

from __future__ import annotations

import signal
import threading

import click

from broker.commands.common import clear_errors, load_actors, load_settings
from broker.errors import ConfigError


@click.command()
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=500, show_default=True)
@click.option(
    "--module", "-m", "modules", multiple=True, help="Also import this module (your own actors); repeatable."
)
@clear_errors
def relay(batch_size: int, modules: tuple[str, ...]) -> None:
    """Publish committed outbox rows with confirms; run one or more (rows are locked while published)."""
    from broker.relay import Relay

    settings = load_settings()
    if settings.is_embedded:
        raise ConfigError(
            "`bookjobs relay` needs a real broker, but BROKER_URL is memory://; `bookjobs up` relays itself."
        )
    broker = load_actors(settings, modules)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    click.echo("bookjobs relay: publishing the send_on_commit outbox.")
    Relay(broker, batch_size=batch_size).run(stop)
