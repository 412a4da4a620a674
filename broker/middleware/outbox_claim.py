"""Run a `send_on_commit` job once, however many times a dying relay published it."""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import SkipMessage
from sqlalchemy import or_, select, update

from domain import db
from domain.models.outbox import OutboxMessage


class DuplicatePublication(SkipMessage):
    """Another publication of the same outbox row already ran (or is running): this copy is acked unrun."""


class ForgedPublication(SkipMessage):
    """A message that names an outbox row without that row's secret: dead at once, never run."""


class OutboxClaim(dramatiq.Middleware):
    """The first publication of an outbox row that a worker starts claims the row; redeliveries of
    that same publication pass (its worker may have died), other publications are skipped.

    A claim needs the row's message id and random secret, so a body published by hand with some
    `outbox_id` cannot claim (and so silence) a real row: it is dead, the row waits for its job.
    """

    def before_process_message(self, broker: dramatiq.Broker, message) -> None:
        outbox_id = message.options.get("outbox_id")
        if outbox_id is None:
            return
        token = message.options.get("outbox_publication")
        secret = message.options.get("outbox_secret")
        genuine = (
            OutboxMessage.id == outbox_id,
            OutboxMessage.message_id == message.message_id,
            OutboxMessage.claim_secret == secret,
        )
        claimed = known = None
        if isinstance(token, str) and isinstance(secret, str):
            with db.session_scope() as session:
                claimed = session.execute(
                    update(OutboxMessage)
                    .where(
                        *genuine, or_(OutboxMessage.claimed_by.is_(None), OutboxMessage.claimed_by == token)
                    )
                    .values(claimed_by=token)
                    .returning(OutboxMessage.id)
                ).first()
                known = claimed is not None or session.scalar(select(OutboxMessage.id).where(*genuine))
        if not known:
            message.fail()
            raise ForgedPublication(
                f"Message {message.message_id} names outbox row {outbox_id} without its secret."
            )
        if claimed is None:
            message._ledger_ignore = True
            raise DuplicatePublication(f"Outbox row {outbox_id} already ran from another publication.")
