"""Monitoring actors on the `default` queue."""

from __future__ import annotations

from datetime import UTC, datetime

import dramatiq
from dramatiq.middleware import CurrentMessage

from broker.middleware.ledger import worker_id
from domain import monitoring as monitoring_service
from periodic import schedule


@dramatiq.actor(queue_name="default", max_retries=0, **schedule.periodic_options("health_check"))
def health_check() -> dict:
    """Answer that this worker is alive, with how long the question waited in the queue."""
    message = CurrentMessage.get_current_message()
    asked_at = datetime.fromtimestamp(message.message_timestamp / 1000, UTC) if message else None
    return monitoring_service.health_report(worker_id=worker_id(), asked_at=asked_at).as_dict()
