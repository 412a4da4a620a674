"""Send each mail at most once: the outbox row is locked, checked and marked sent in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain.db import SessionScope
from domain.errors import JobError, PermanentError
from domain.mail.transport import Transport
from domain.models.base import utcnow
from domain.models.mail import OutboxMail

PENDING, SENT, FAILED = "pending", "sent", "failed"

#: Builds the message inside the sending transaction (it may issue a token there).
Compose = Callable[[Session], EmailMessage]


@dataclass(frozen=True)
class Delivery:
    """What happened to one mail."""

    recipient: str
    dedupe_key: str
    status: str  # sent | already_sent | already_failed | skipped (nothing to send any more)

    def as_dict(self) -> dict:
        return asdict(self)


def deliver(
    scope: SessionScope,
    *,
    dedupe_key: str,
    recipient: str,
    template: str,
    compose: Compose,
    transport: Transport,
    on_sent: Callable[[Session], None] | None = None,
) -> Delivery:
    """Send the mail of `dedupe_key` unless it was sent already.

    The row stays locked (SELECT … FOR UPDATE) from the check to the COMMIT that marks it sent, and
    whatever `compose` and `on_sent` write commits with it. A failure rolls all of that back, then
    records the attempt and the server's reply; a permanent one marks the mail failed for good.
    The one window left: a crash after the server's 250 and before that COMMIT sends the mail again.
    """
    try:
        with scope() as session:
            row = _locked_row(session, dedupe_key, recipient, template)
            if row.status != PENDING:
                return Delivery(recipient, dedupe_key, f"already_{row.status}")
            message = compose(session)
            row.subject = str(message["Subject"])
            transport.send(message)
            row.status, row.sent_at, row.attempts, row.last_error = SENT, utcnow(), row.attempts + 1, None
            if on_sent is not None:
                on_sent(session)
    except JobError as error:
        _record_failure(scope, dedupe_key, recipient, template, error)
        raise
    return Delivery(recipient, dedupe_key, SENT)


def _record_failure(
    scope: SessionScope, dedupe_key: str, recipient: str, template: str, error: JobError
) -> None:
    with scope() as session:
        row = _locked_row(session, dedupe_key, recipient, template)
        row.attempts += 1
        row.last_error = str(error)
        if isinstance(error, PermanentError):
            row.status = FAILED


def _locked_row(session: Session, dedupe_key: str, recipient: str, template: str) -> OutboxMail:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(OutboxMail)
        .values(
            dedupe_key=dedupe_key,
            recipient=recipient,
            subject="",
            template=template,
            status=PENDING,
            attempts=0,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    statement = select(OutboxMail).where(OutboxMail.dedupe_key == dedupe_key).with_for_update()
    return session.scalars(statement.execution_options(populate_existing=True)).one()
