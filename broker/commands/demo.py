"""`bookjobs up --demo`: jobs of every domain, so a newcomer sees each one working in the dashboard."""

from __future__ import annotations

import time
import uuid

import click
import dramatiq

from broker.settings import Settings
from domain import db
from domain import demo as demo_data
from domain.models.books import Book

#: No demo user has this id.
MISSING_USER_ID = 999_999


#: Namespace of the demo's fixed message ids.
DEMO_NAMESPACE = uuid.UUID("0e7c4d3a-52a8-4d0b-9a63-2b8c1f0de5a7")


def _send_once(actor: dramatiq.Actor, *args, **kwargs) -> None:
    """Send `actor(*args, **kwargs)` under a message id fixed by what it is."""
    key = f"{actor.actor_name}:{args!r}:{sorted(kwargs.items())!r}"
    message = actor.message(*args, **kwargs).copy(message_id=str(uuid.uuid5(DEMO_NAMESPACE, key)))
    actor.broker.enqueue(message)


def run_demo(settings: Settings, *, timeout: float = 120.0) -> None:
    """Load the demo data and send its jobs; returns once the book is processed and its images queued."""
    from actors import books, email, images, reading

    with db.session_scope() as session:
        data = demo_data.load(session, media_root=settings.media_root)
    books.process_book.send(data.book_id)
    # Fixed message ids: the mails' dedupe keys follow them, so a second demo sends no second mail.
    _send_once(email.send_verification_email, data.user_id)
    welcome = {"body": "Ваша первая книга уже обрабатывается."}
    _send_once(email.send_email, "reader@bookreader.local", "Добро пожаловать в BookReader", context=welcome)
    # A verification mail for a user who does not exist: dead on purpose, so a failure shows too.
    _send_once(email.send_verification_email, MISSING_USER_ID)
    reading.close_abandoned_sessions.send()
    click.echo(f"demo: book {data.book_id} is being processed; a verification mail and a welcome mail sent.")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.session_scope() as session:
            status = session.get(Book, data.book_id).status
        if status in ("processed", "failed"):
            break
        time.sleep(0.2)
    images.batch_generate_for_book.send(data.book_id, data.user_id, limit=5)
    outbox = settings.mail_outbox_dir
    click.echo(f"demo: book {data.book_id} {status}; 5 illustrations queued; mails are in {outbox}/.")
