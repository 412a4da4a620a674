"""Each cron-table row with its next run and its last run's outcome (`bookjobs schedules`, dashboard)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.orm import Session

from domain import ledger
from periodic import claims
from periodic.schedule import load_table


def schedule_rows(session: Session, *, declared: Collection[str], now: datetime) -> list[dict]:
    """One JSON-able dict per row of the cron table, in table order."""
    rows = []
    for row in load_table():
        last = claims.last_run(session, row.actor_name)
        job = ledger.find_job(session, last.message_id) if last and last.message_id else None
        rows.append(
            {
                "actor": row.actor_name,
                "cron": row.cron if row.enabled else "off",
                "timezone": row.timezone,
                "missed_runs": row.missed.value,
                "declared": row.actor_name in declared,
                "next_run": row.parsed.next_after(now, row.zone).isoformat() if row.enabled else None,
                "last_slot": last.slot_at.isoformat() if last else None,
                "last_status": (job.status if job else last.status) if last else None,
                "last_message_id": last.message_id if last else None,
            }
        )
    return rows
