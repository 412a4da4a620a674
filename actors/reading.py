"""Reading-session actors."""

from __future__ import annotations

import dramatiq

from broker.runtime import current_settings
from domain import db
from domain import reading as reading_service
from periodic import schedule


@dramatiq.actor(queue_name="cleanup", **schedule.periodic_options("close_abandoned_sessions"))
def close_abandoned_sessions() -> dict:
    """Close every session active for longer than ABANDONED_SESSION_HOURS, in one statement."""
    with db.session_scope() as session:
        hours = current_settings().abandoned_session_hours
        return reading_service.close_abandoned(session, hours=hours).as_dict()
