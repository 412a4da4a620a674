"""Monitoring actors on the `default` queue."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage

from broker.inspect import BrokerInspector
from broker.runtime import current_settings
from broker.workers import worker_id
from domain import actor_stats, db, ledger_partitions
from domain import monitoring as monitoring_service
from domain import stats as stats_service
from domain.errors import InvalidArgument
from domain.models.base import utcnow
from periodic import schedule


@dramatiq.actor(queue_name="default", max_retries=0, **schedule.periodic_options("health_check"))
def health_check() -> dict:
    """Answer that this worker is alive, with how long the question waited in the queue."""
    message = CurrentMessage.get_current_message()
    asked_at = datetime.fromtimestamp(message.message_timestamp / 1000, UTC) if message else None
    return monitoring_service.health_report(worker_id=worker_id(), asked_at=asked_at).as_dict()


@dramatiq.actor(queue_name="default", **schedule.periodic_options("system_stats"))
def system_stats() -> dict:
    """Counts of users, books, descriptions, active sessions and every queue; kept as history."""
    with db.session_scope() as session:
        return stats_service.system_snapshot(session, queues=queue_depths())


@dramatiq.actor(queue_name="default", **schedule.periodic_options("generate_daily_stats"))
def generate_daily_stats(day: str | None = None) -> dict:
    """Figures of `day` (ISO date; default yesterday, UTC), upserted so a re-run is safe."""
    try:
        target = date.fromisoformat(day) if day else (utcnow() - timedelta(days=1)).date()
    except ValueError:
        raise InvalidArgument(f"day must be an ISO date like '2026-11-21', not {day!r}.") from None
    with db.session_scope() as session:
        return stats_service.daily_stats(session, day=target)


@dramatiq.actor(queue_name="cleanup", **schedule.periodic_options("cleanup_job_history"))
def cleanup_job_history(days: int = 30) -> dict:
    """Prune ledger rows older than `days` (dead ones after DEAD_JOB_RETENTION_DAYS), in batches."""
    dead_days = max(current_settings().dead_job_retention_days, days)
    return stats_service.prune_job_history(db.session_scope, days=days, dead_days=dead_days)


@dramatiq.actor(queue_name="cleanup", **schedule.periodic_options("create_ledger_partitions"))
def create_ledger_partitions(days_ahead: int = ledger_partitions.DAYS_AHEAD) -> dict:
    """Give the ledger a partition for today and each of the next `days_ahead` days (PostgreSQL;
    on SQLite it answers `partitioned: false`). Rows of a day that had none move into it."""
    if not 0 <= days_ahead <= 366:
        raise InvalidArgument(f"days_ahead must be between 0 and 366, not {days_ahead!r}.")
    return ledger_partitions.ensure_partitions(db.get_engine(), days_ahead=days_ahead)


@dramatiq.actor(queue_name="cleanup", **schedule.periodic_options("roll_up_actor_stats"))
def roll_up_actor_stats() -> dict:
    """Roll the ledger's closed hours up per actor, so the dashboard's actors pages read a week fast."""
    with db.session_scope() as session:
        hours = actor_stats.roll_up(session)
        through = actor_stats.rolled_through(session)
    return {"hours_rolled_up": hours, "through": through.isoformat() if through else None}


def queue_depths() -> dict[str, dict]:
    """Counts of every queue: ready, delayed, dead and consumers on RabbitMQ; ready on the embedded
    broker; nothing on Redis."""
    settings = current_settings()
    broker = dramatiq.get_broker()
    names = sorted({actor.queue_name for actor in broker.actors.values()})
    if isinstance(broker, StubBroker):
        return {name: {"ready": broker.queues[name].qsize()} for name in names if name in broker.queues}
    if not settings.broker_url.startswith("amqp"):
        return {}
    with BrokerInspector(settings.broker_url) as inspector:
        return {name: inspector.queue_counts(name).as_dict() for name in names}


def check_queue(queue_name: str) -> dramatiq.Message:
    """Ask the workers of `queue_name` whether they are alive: a health_check sent to that queue."""
    message = health_check.message().copy(queue_name=queue_name)
    return dramatiq.get_broker().enqueue(message)
