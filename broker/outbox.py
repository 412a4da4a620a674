"""`send_on_commit`: a job that is sent if, and only if, the application's own transaction commits.

`actor.send()` inside a transaction is sent even when the transaction then rolls back, and a crash
between COMMIT and `send()` loses the job. Here the message is written into `bookjobs_outbox` in the
app's session; the relay (`bookjobs relay`, or a thread of `bookjobs up`) publishes committed rows
with confirms and marks them sent. A relay that dies mid-batch publishes those rows again; each
publication carries its own token and the row's random claim secret, and the first one a worker
starts claims the row, so a job runs once however many copies reach the queue. A body published
by anyone else cannot claim a row: it does not know the secret.
"""

from __future__ import annotations

import secrets
from typing import Any

import dramatiq
from sqlalchemy.orm import Session

from broker.sending import check_arguments
from domain.models.outbox import OutboxMessage


def send_on_commit(session: Session, actor: dramatiq.Actor, *args: Any, **kwargs: Any) -> dramatiq.Message:
    """Like `actor.send(*args, **kwargs)`, but part of `session`'s transaction."""
    return send_on_commit_with_options(session, actor, args=args, kwargs=kwargs)


def send_on_commit_with_options(
    session: Session,
    actor: dramatiq.Actor,
    *,
    args: tuple | list = (),
    kwargs: dict[str, Any] | None = None,
    delay: int | None = None,
    **options: Any,
) -> dramatiq.Message:
    """Like `actor.send_with_options(...)`; `delay` (ms) counts from the commit's relay, not from now."""
    kwargs = kwargs or {}
    check_arguments(actor, list(args), kwargs)
    message = actor.message_with_options(args=tuple(args), kwargs=kwargs, **options)
    actor.broker.emit_before("enqueue", message, delay)  # the same checks as send(): size, defaults
    session.add(
        OutboxMessage(
            message_id=message.message_id,
            queue_name=message.queue_name,
            actor_name=message.actor_name,
            body=message.encode(),
            delay_ms=delay,
            claim_secret=secrets.token_hex(16),
        )
    )
    return message
