"""The cron table as data: one row per periodic actor, overridable from the environment.

A leaf module (it imports no actor), so actors can take their `periodic=` declaration from it.
"""

from __future__ import annotations

import enum
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from broker.errors import ConfigError
from periodic.cron import Cron, CronError

ENV_PREFIX = "BOOKJOBS_SCHEDULE__"


class MissedRuns(enum.StrEnum):
    """What a starting scheduler does with slots that passed while no scheduler ran."""

    SKIP = "skip"  # record them as skipped, run nothing
    RUN_ONCE = "run_once"  # run the latest one, record the others as skipped
    CATCH_UP = "catch_up"  # run up to `catch_up_limit` of them, oldest first


@dataclass(frozen=True)
class ScheduleRow:
    """When one periodic actor runs."""

    actor_name: str
    cron: str
    timezone: str = "UTC"
    missed: MissedRuns = MissedRuns.SKIP
    catch_up_limit: int = 1
    enabled: bool = True

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def parsed(self) -> Cron:
        return _parse(self.cron)


#: The seeds' Celery Beat schedules (DESIGN.md).
DEFAULT_TABLE: tuple[ScheduleRow, ...] = (
    ScheduleRow("health_check", "* * * * *"),
    ScheduleRow("close_abandoned_sessions", "*/30 * * * *", missed=MissedRuns.RUN_ONCE),
    ScheduleRow("system_stats", "*/30 * * * *"),
    ScheduleRow("send_session_reminders", "0 * * * *", missed=MissedRuns.RUN_ONCE),
    ScheduleRow("cleanup_expired_exams", "*/5 * * * *", missed=MissedRuns.RUN_ONCE),
    ScheduleRow("cleanup_old_exam_sessions", "15 * * * *", missed=MissedRuns.RUN_ONCE),
    # Not a seed's: keeps the dashboard's per-actor figures fast (closed hours rolled up ahead).
    ScheduleRow("roll_up_actor_stats", "12 * * * *", missed=MissedRuns.RUN_ONCE),
    ScheduleRow("generate_daily_stats", "0 1 * * *", missed=MissedRuns.CATCH_UP, catch_up_limit=7),
    # Not a seed's: the ledger's day partitions a week ahead on PostgreSQL (domain.ledger_partitions).
    ScheduleRow("create_ledger_partitions", "5 0 * * *", missed=MissedRuns.RUN_ONCE),
    ScheduleRow("cleanup_old_images", "0 3 * * *", missed=MissedRuns.RUN_ONCE),
    ScheduleRow("cleanup_expired_tokens", "0 3 * * *", missed=MissedRuns.RUN_ONCE),
    ScheduleRow("cleanup_job_history", "0 3 * * *", missed=MissedRuns.RUN_ONCE),
    ScheduleRow("cleanup_old_proctoring_events", "0 4 * * *", missed=MissedRuns.RUN_ONCE),
    ScheduleRow("archive_old_attempts", "30 4 * * *", missed=MissedRuns.RUN_ONCE),
)


def load_table(env: Mapping[str, str] | None = None) -> tuple[ScheduleRow, ...]:
    """The table with environment overrides applied and every row validated.

    `BOOKJOBS_SCHEDULE__<ACTOR>` is `off`, or a cron expression optionally followed by an IANA zone:
    `"*/15 * * * *"`, `"0 3 * * * Europe/Moscow"`, `"@weekly"`. A name that is not in the table adds
    a row (an app's own periodic actor). A bad value raises ConfigError naming the row.
    """
    env = os.environ if env is None else env
    rows = {row.actor_name: row for row in DEFAULT_TABLE}
    by_upper = {name.upper(): name for name in rows}
    for key, value in sorted(env.items()):
        if not key.startswith(ENV_PREFIX):
            continue
        upper = key[len(ENV_PREFIX) :].upper()
        name = by_upper.get(upper, upper.lower())
        row = rows.get(name, ScheduleRow(name, "* * * * *"))
        rows[name] = _override(row, key, value)
    for row in rows.values():
        validate(row, source=f"{ENV_PREFIX}{row.actor_name.upper()}")
    return tuple(rows.values())


def row_for(actor_name: str, env: Mapping[str, str] | None = None) -> ScheduleRow | None:
    """The enabled row of `actor_name`, if it has one."""
    return next((r for r in load_table(env) if r.actor_name == actor_name and r.enabled), None)


def periodic_options(actor_name: str) -> dict:
    """`{"periodic": cron(...)}` (periodiq's declaration) for `actor_name`, or {} when its row is off."""
    from periodiq import cron

    row = row_for(actor_name)
    return {"periodic": cron(row.parsed.to_periodiq())} if row is not None else {}


def validate(row: ScheduleRow, *, source: str) -> None:
    """Raise ConfigError naming `source` unless the row's expression and zone are valid."""
    try:
        _parse(row.cron)
    except CronError as error:
        raise ConfigError(f"Schedule row {row.actor_name!r} ({source}): {error}") from None
    try:
        ZoneInfo(row.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"Schedule row {row.actor_name!r} ({source}): {row.timezone!r} is not an IANA time zone."
        ) from None


def _override(row: ScheduleRow, key: str, value: str) -> ScheduleRow:
    text = value.strip()
    if text.lower() == "off":
        return replace(row, enabled=False)
    if not text:
        raise ConfigError(f"{key} is empty: give a cron expression or 'off'.")
    words = text.split()
    if len(words) in (2, 6):  # a macro or five fields, then a zone
        return replace(row, cron=" ".join(words[:-1]), timezone=words[-1], enabled=True)
    return replace(row, cron=text, enabled=True)


@functools.cache
def _parse(expression: str) -> Cron:
    return Cron.parse(expression)
