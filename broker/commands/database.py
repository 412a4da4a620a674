"""`bookjobs db upgrade` / `db downgrade REVISION`: apply the migrations, or undo them."""

from __future__ import annotations

import click

from broker.commands.common import clear_errors, load_settings, redacted_url
from domain import db as database
from domain import migrate


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command()
@clear_errors
def upgrade() -> None:
    """Create or upgrade every bookjobs table to the latest migration."""
    settings = load_settings()
    before, after = migrate.upgrade(database.configure(settings.database_url))
    safe_url = redacted_url(settings.database_url)
    if before == after:
        click.echo(f"Database {safe_url} is up to date (revision {after}).")
    else:
        origin = before or "(none: a new database)"
        click.echo(f"Database {safe_url} upgraded from revision {origin} to {after}.")


@db.command()
@click.argument("revision")
@clear_errors
def downgrade(revision: str) -> None:
    """Take every bookjobs table back to REVISION (e.g. 0013: the ledger unpartitioned)."""
    settings = load_settings()
    before, after = migrate.downgrade(database.configure(settings.database_url), revision)
    click.echo(f"Database {redacted_url(settings.database_url)} taken from revision {before} to {after}.")
