"""The `bookjobs` command: the one entry point that reaches up to actors, periodic and dashboard."""

from __future__ import annotations

import click

from broker.commands.common import setup_logging
from broker.commands.dashboard import dashboard
from broker.commands.database import db
from broker.commands.health import health
from broker.commands.inspection import cancel, inspect, purge, status
from broker.commands.periodic import scheduler, schedules
from broker.commands.processes import up, worker
from broker.commands.relay import relay
from broker.commands.sending import send


@click.group(context_settings={"auto_envvar_prefix": "BOOKJOBS", "help_option_names": ["-h", "--help"]})
@click.option("--verbose", "-v", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """bookjobs: background jobs of the BookReader platform on Dramatiq."""
    setup_logging(verbose)


COMMANDS = (
    cancel, dashboard, db, health, inspect, purge, relay, scheduler, schedules, send, status, up, worker,
)  # fmt: skip
for command in COMMANDS:
    main.add_command(command)
