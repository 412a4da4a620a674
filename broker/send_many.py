"""`send_many`: enqueue many jobs of one actor with one wait for the broker's confirms per batch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dramatiq
from dramatiq.common import current_millis, dq_name

from broker.bulk import Publication, publish_confirmed
from broker.redelivery import POSSIBLE_DUPLICATE
from broker.sending import check_arguments
from domain.errors import InvalidArgument, TransientError

BATCH_SIZE = 5_000


class BulkSendError(TransientError):
    """Some messages of a `send_many` were not confirmed by the broker.

    `.unconfirmed` lists their message ids and `.unconfirmed_items` their arguments, in the same
    order; `.resend()` sends exactly those again under the same ids. An unconfirmed message may
    still have reached the queue (the connection can drop between the broker's write and its
    confirm), so the copies are marked as possible duplicates: a worker runs such a copy only if
    the ledger says the job has not finished, and a job runs once however the retry turns out.
    """

    def __init__(
        self,
        reason: str,
        confirmed: list[str],
        unconfirmed: list[dramatiq.Message],
        *,
        actor: dramatiq.Actor,
        delay_ms: int | None,
        priority: int | None,
    ) -> None:
        super().__init__(
            f"{len(unconfirmed)} of {len(confirmed) + len(unconfirmed)} messages were not confirmed "
            f"({reason}); the first: {[m.message_id for m in unconfirmed[:5]]}. The others were "
            "confirmed; `error.resend()` sends the unconfirmed ones again under the same ids."
        )
        self.confirmed = confirmed
        self.unconfirmed = [m.message_id for m in unconfirmed]
        self.unconfirmed_items = [{"args": list(m.args), "kwargs": dict(m.kwargs)} for m in unconfirmed]
        self._timestamps = [m.message_timestamp for m in unconfirmed]
        self._resend = {"actor": actor, "delay_ms": delay_ms, "priority": priority}

    def resend(self, **options: Any) -> list[dramatiq.Message]:
        """`send_many` of the unconfirmed items again, with their message ids (BulkSendError again if
        the broker is still away)."""
        resend = {**self._resend, **options}
        actor = resend.pop("actor")
        return send_many(
            actor,
            self.unconfirmed_items,
            message_ids=self.unconfirmed,
            message_timestamps=self._timestamps,
            **resend,
        )


def send_many(
    actor: dramatiq.Actor,
    items: Iterable[Sequence[Any] | Mapping[str, Any]],
    *,
    delay_ms: int | None = None,
    priority: int | None = None,
    batch_size: int = BATCH_SIZE,
    message_ids: Sequence[str] | None = None,
    message_timestamps: Sequence[int] | None = None,
) -> list[dramatiq.Message]:
    """Enqueue one job per item (a list of arguments, or `{"args": [...], "kwargs": {...}}`).

    Every message is confirmed by RabbitMQ when this returns; otherwise BulkSendError names those
    that were not (later batches are then not sent). On other brokers each message is enqueued the
    usual way. Arguments are checked against the actor's signature before anything is sent.

    `message_ids` (one per item) re-sends messages that may already be queued, as
    `BulkSendError.resend()` does: the copies keep those ids and are checked against the ledger.
    `message_timestamps` (epoch ms, one per item) keeps the first messages' enqueue times too, so
    each job stays one ledger row (on PostgreSQL the ledger's key is the id and the enqueue time).
    """
    options: dict[str, Any] = {"broker_priority": priority} if priority is not None else {}
    checked = _arguments(actor, items)
    if message_ids is not None:
        if len(message_ids) != len(checked):
            raise InvalidArgument(f"{len(message_ids)} message ids for {len(checked)} items.")
        options[POSSIBLE_DUPLICATE] = True
    messages = [actor.message_with_options(args=a, kwargs=k, **options) for a, k in checked]
    if message_ids is not None:
        messages = [m.copy(message_id=str(i)) for m, i in zip(messages, message_ids, strict=True)]
    if message_timestamps is not None:
        if len(message_timestamps) != len(messages):
            raise InvalidArgument(f"{len(message_timestamps)} message timestamps for {len(messages)} items.")
        timed = zip(messages, message_timestamps, strict=True)
        messages = [m.copy(message_timestamp=int(t)) for m, t in timed]
    broker = actor.broker
    if not hasattr(broker, "parameters"):  # not RabbitMQ: the broker's own enqueue confirms each message
        return [broker.enqueue(message, delay=delay_ms) for message in messages]
    broker.declare_queue(actor.queue_name, ensure=True)  # with its .DQ and .XQ, as enqueue would
    sent: list[dramatiq.Message] = []
    for start in range(0, len(messages), batch_size):
        batch = [_for_queue(m, delay_ms) for m in messages[start : start + batch_size]]
        for message in batch:
            broker.emit_before("enqueue", message, delay_ms)
        publications = [
            Publication(m.queue_name, m.encode(), m.options.get("broker_priority")) for m in batch
        ]
        confirmations = publish_confirmed(broker.parameters, publications)
        for index in sorted(confirmations.acked):
            broker.emit_after("enqueue", batch[index], delay_ms)
        sent += [batch[i] for i in sorted(confirmations.acked)]
        missing = confirmations.unconfirmed(len(batch))
        if missing:
            reason = confirmations.error or f"the broker refused {len(confirmations.nacked)}"
            # The originals (not the delay-queue copies), so a resend routes them the same way again.
            unconfirmed = [messages[start + i] for i in missing] + messages[start + len(batch) :]
            raise BulkSendError(
                reason,
                [m.message_id for m in sent],
                unconfirmed,
                actor=actor,
                delay_ms=delay_ms,
                priority=priority,
            )
    return sent


def _arguments(actor: dramatiq.Actor, items: Iterable) -> list[tuple[tuple, dict]]:
    checked = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, Mapping):
            args, kwargs = list(item.get("args", [])), dict(item.get("kwargs", {}))
        elif isinstance(item, Sequence) and not isinstance(item, str | bytes):
            args, kwargs = list(item), {}
        else:
            raise InvalidArgument(
                f"Item {number} must be a list of arguments or an object, not {item!r:.80}."
            )
        try:
            check_arguments(actor, args, kwargs)
        except InvalidArgument as error:
            raise InvalidArgument(f"Item {number}: {error}") from None
        checked.append((tuple(args), kwargs))
    return checked


def _for_queue(message: dramatiq.Message, delay_ms: int | None) -> dramatiq.Message:
    """dramatiq's own routing: a delayed message goes to the delay queue with its eta."""
    if not delay_ms:
        return message
    return message.copy(queue_name=dq_name(message.queue_name), options={"eta": current_millis() + delay_ms})
