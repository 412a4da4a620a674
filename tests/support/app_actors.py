"""An application's own actor on a queue of its own, as a platform app would declare one."""

from __future__ import annotations

import dramatiq


@dramatiq.actor(queue_name="reports")
def build_report(report_id: int) -> dict:
    """A stand-in for an app's job."""
    return {"report_id": report_id}
