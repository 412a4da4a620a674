"""Apply the Alembic migrations shipped in `domain/migrations/`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: Serialises concurrent upgrades (several containers starting at once) on PostgreSQL.
ADVISORY_LOCK_KEY = 0x626F6F6B6A6F6273 & 0x7FFFFFFFFFFFFFFF


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the database behind `engine` up to `revision`; (revision before, revision after)."""
    return _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> tuple[str | None, str | None]:
    """Take the database behind `engine` back to `revision`; (revision before, revision after)."""
    return _migrate(engine, command.downgrade, revision)


def _migrate(engine: Engine, step, revision: str) -> tuple[str | None, str | None]:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        before = MigrationContext.configure(connection).get_current_revision()
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        step(config, revision)
        return before, MigrationContext.configure(connection).get_current_revision()
