"""The hardened scheduler: each slot claimed in the database before it is sent, so it runs once.

Any number of schedulers may run: the unique (actor, slot) row decides which one sends. A slot that
passed while none ran is handled by its row's missed-run policy; a slot is never silently dropped.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from domain import db
from domain.models.base import utcnow
from periodic import claims
from periodic.schedule import MissedRuns, ScheduleRow

logger = logging.getLogger(__name__)

#: A slot this late is still sent as usual; older ones fall under the missed-run policy.
GRACE = timedelta(seconds=60)
#: How far back a starting scheduler looks for missed slots.
LOOKBACK = timedelta(days=8)
#: A claim not marked sent after this long belongs to a scheduler that died: send it again.
UNSENT_AFTER = timedelta(seconds=60)
#: The longest sleep, so clock jumps and dead schedulers' claims are noticed.
MAX_SLEEP = 30.0
#: Message ids are derived from (actor, slot), so every trace of one slot shares one ledger row.
SLOT_NAMESPACE = uuid.UUID("6f1f5a0e-9a57-4c8e-bb3d-7d0f4f6f2b11")

Enqueue = Callable[[str, datetime, str], None]


def slot_message_id(actor_name: str, slot_at: datetime) -> str:
    """The message id of `actor_name`'s run for `slot_at`."""
    return str(uuid.uuid5(SLOT_NAMESPACE, f"{actor_name}@{slot_at.isoformat()}"))


class Scheduler:
    """Sends each enabled row's slots once; `tick` does one round, `run` loops until stopped."""

    def __init__(
        self,
        rows: list[ScheduleRow],
        *,
        enqueue: Enqueue,
        queue_of: Callable[[str], str],
        scheduler_id: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.rows = [row for row in rows if row.enabled]
        self.enqueue = enqueue
        self.queue_of = queue_of
        self.scheduler_id = scheduler_id
        self.clock = clock
        self._cursors: dict[str, datetime] = {}

    def run(self, stop: threading.Event, *, on_round: Callable[[], None] | None = None) -> None:
        """Tick at every slot until `stop` is set; `on_round` is called each round (a liveness beat,
        at least every MAX_SLEEP seconds)."""
        logger.info("Scheduler %s up with %d rows.", self.scheduler_id, len(self.rows))
        while not stop.is_set():
            if on_round is not None:
                on_round()
            try:
                wake = self.tick()
            except Exception:
                logger.exception("Scheduler round failed; trying again shortly.")
                wake = self.clock() + timedelta(seconds=5)
            stop.wait(min(max((wake - self.clock()).total_seconds(), 0.05), MAX_SLEEP))

    def tick(self) -> datetime:
        """Send what is due now; return when the next slot falls."""
        now = self.clock()
        self._resend_unsent(now)
        wakes = []
        for row in self.rows:
            self._handle_due(row, now)
            wakes.append(row.parsed.next_after(self._cursors[row.actor_name], row.zone))
        return min(wakes, default=now + timedelta(seconds=MAX_SLEEP))

    def _handle_due(self, row: ScheduleRow, now: datetime) -> None:
        cursor = self._cursor(row, now)
        due: list[datetime] = []
        slot = row.parsed.next_after(cursor, row.zone)
        while slot <= now:
            due.append(slot)
            slot = row.parsed.next_after(slot, row.zone)
        if not due:
            return
        late = [s for s in due if now - s > GRACE]
        current = [s for s in due if now - s <= GRACE]
        run, skipped = _apply_policy(row, late)
        if skipped:
            self._skip(row, skipped)
        for slot_at in run + current:
            self._send(row, slot_at)
        self._cursors[row.actor_name] = due[-1]

    def _cursor(self, row: ScheduleRow, now: datetime) -> datetime:
        if row.actor_name not in self._cursors:
            with db.session_scope() as session:
                last = claims.last_slot(session, row.actor_name)
            start = last if last is not None else now - GRACE
            self._cursors[row.actor_name] = max(start, now - LOOKBACK)
        return self._cursors[row.actor_name]

    def _send(self, row: ScheduleRow, slot_at: datetime) -> None:
        message_id = slot_message_id(row.actor_name, slot_at)
        with db.session_scope() as session:
            won = self._claim(session, row, slot_at, claims.CLAIMED, message_id)
        if not won:
            logger.debug("Slot %s of %s was claimed by another scheduler.", slot_at, row.actor_name)
            return
        self.enqueue(row.actor_name, slot_at, message_id)
        with db.session_scope() as session:
            claims.mark_sent(session, actor_name=row.actor_name, slot_at=slot_at)
        logger.info("Sent %s for slot %s (message %s).", row.actor_name, slot_at.isoformat(), message_id)

    def _skip(self, row: ScheduleRow, skipped: list[datetime]) -> None:
        latest = skipped[-1]
        reason = (
            f"{len(skipped)} slot(s) from {skipped[0].isoformat()} to {latest.isoformat()} passed while no "
            f"scheduler ran; skipped by the missed-run policy {row.missed.value!r}."
        )
        message_id = slot_message_id(row.actor_name, latest)
        with db.session_scope() as session:
            won = self._claim(session, row, latest, claims.SKIPPED, message_id, note=reason)
            if won:
                claims.record_skipped_job(
                    session,
                    message_id=message_id,
                    actor_name=row.actor_name,
                    queue_name=self.queue_of(row.actor_name),
                    slot_at=latest,
                    reason=reason,
                )
        if won:
            logger.warning("%s: %s", row.actor_name, reason)

    def _claim(
        self,
        session,
        row: ScheduleRow,
        slot_at: datetime,
        status: str,
        message_id: str,
        note: str | None = None,
    ) -> bool:
        return claims.claim(
            session,
            actor_name=row.actor_name,
            slot_at=slot_at,
            status=status,
            message_id=message_id,
            claimed_by=self.scheduler_id,
            claimed_at=self.clock(),
            note=note,
        )

    def _resend_unsent(self, now: datetime) -> None:
        with db.session_scope() as session:
            orphans = claims.unsent_claims(session, claimed_before=now - UNSENT_AFTER)
        names = {row.actor_name for row in self.rows}
        for orphan in orphans:
            if orphan.actor_name not in names:
                continue
            logger.warning(
                "Re-sending %s for slot %s: its scheduler never confirmed it.",
                orphan.actor_name,
                orphan.slot_at,
            )
            self.enqueue(orphan.actor_name, orphan.slot_at, orphan.message_id)
            with db.session_scope() as session:
                claims.mark_sent(session, actor_name=orphan.actor_name, slot_at=orphan.slot_at)


def _apply_policy(row: ScheduleRow, late: list[datetime]) -> tuple[list[datetime], list[datetime]]:
    """Split late slots into (to run, oldest first; to skip) by the row's missed-run policy."""
    if not late:
        return [], []
    if row.missed == MissedRuns.SKIP:
        return [], late
    keep = 1 if row.missed == MissedRuns.RUN_ONCE else max(row.catch_up_limit, 0)
    if keep == 0:
        return [], late
    return late[-keep:], late[:-keep]
