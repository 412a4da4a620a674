"""Mail over real SMTP (aiosmtpd on loopback) from real workers on RabbitMQ and PostgreSQL."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from actors import email as email_actors
from domain import db
from domain.errors import InvalidArgument
from domain.mail import tokens
from domain.models.accounts import AuthToken, MentorSession, User
from domain.models.base import utcnow
from domain.models.jobs import Job
from domain.models.mail import OutboxMail
from tests.integration.test_bad_input import publish
from tests.support import actors as test_actors
from tests.support.ledger import wait_for, wait_for_status

pytestmark = pytest.mark.integration


def add_user(locale: str = "ru", full_name: str = "Иван Петров") -> int:
    name = uuid.uuid4().hex[:8]
    with db.session_scope() as session:
        user = User(email=f"{name}@example.com", username=name, full_name=full_name, locale=locale)
        session.add(user)
        session.flush()
        return user.id


def outbox_row(dedupe_prefix: str) -> OutboxMail:
    with db.session_scope() as session:
        return session.scalars(
            select(OutboxMail).where(OutboxMail.dedupe_key.startswith(dedupe_prefix))
        ).one()


def outbox_status(dedupe_key: str) -> str | None:
    with db.session_scope() as session:
        return session.scalar(select(OutboxMail.status).where(OutboxMail.dedupe_key == dedupe_key))


def body(message, subtype: str) -> str:
    return message.get_body(preferencelist=(subtype,)).get_content()


def test_a_verification_mail_arrives_once_with_both_parts_and_a_link_that_verifies(
    rabbitmq_broker, start_worker, smtp_server
):
    start_worker(SMTP_URL=smtp_server.url, APP_BASE_URL="https://reader.example")
    user_id = add_user()

    message = email_actors.send_verification_email.send(user_id)

    row = wait_for_status(message.message_id, "done")
    assert row.args == [user_id]
    assert (
        row.result["status"] == "sent"
        and row.result["dedupe_key"] == f"verification:{user_id}:{message.message_id}"
    )
    [mail] = smtp_server.accepted
    assert mail["Subject"] == "Подтвердите адрес электронной почты — BookReader"
    assert "=?utf-8?" in mail.as_string()  # the raw header is RFC 2047 encoded
    assert mail["To"].addresses[0].display_name == "Иван Петров"
    assert mail.get_content_type() == "multipart/alternative"
    text, html = body(mail, "plain"), body(mail, "html")
    assert "Подтвердите адрес" in text and "<a href=" in html
    raw_token = re.search(r"https://reader\.example/verify-email\?token=([\w-]+)", text).group(1)
    assert raw_token not in str(row.args) + str(row.kwargs) + str(row.result) + str(row.options)
    with db.session_scope() as session:
        stored = session.scalars(select(AuthToken.token_hash).where(AuthToken.user_id == user_id)).all()
        assert stored == [tokens.hash_token(raw_token)]
        assert tokens.redeem(session, raw=raw_token, kind=tokens.VERIFICATION).id == user_id


def test_an_english_user_gets_the_english_password_reset_mail(rabbitmq_broker, start_worker, smtp_server):
    start_worker(SMTP_URL=smtp_server.url)
    user_id = add_user(locale="en", full_name="Jane Doe")

    wait_for_status(email_actors.send_password_reset_email.send(user_id).message_id, "done")

    [mail] = smtp_server.accepted
    assert mail["Subject"] == "Reset your password — BookReader"
    assert "/reset-password?token=" in body(mail, "plain")


def test_a_451_then_250_delivers_one_mail_after_a_retry(rabbitmq_broker, start_worker, smtp_server):
    start_worker(SMTP_URL=smtp_server.url)
    smtp_server.reply_next("451 4.3.0 Mailbox busy, try later")
    user_id = add_user()

    message = email_actors.send_verification_email.send_with_options(args=(user_id,), min_backoff=100)

    row = wait_for_status(message.message_id, "done")
    assert row.retries == 1
    assert len(smtp_server.accepted) == 1
    outbox = outbox_row(f"verification:{user_id}:")
    assert (outbox.status, outbox.attempts) == ("sent", 2)
    with db.session_scope() as session:  # the failed attempt's token was rolled back with it
        assert len(session.scalars(select(AuthToken).where(AuthToken.user_id == user_id)).all()) == 1


def test_a_550_goes_dead_at_once_with_the_server_reply_in_the_outbox(
    rabbitmq_broker, start_worker, smtp_server
):
    start_worker(SMTP_URL=smtp_server.url)
    smtp_server.reply_next("550 5.1.1 No such user here")
    user_id = add_user()

    message = email_actors.send_verification_email.send_with_options(args=(user_id,), min_backoff=100)

    row = wait_for_status(message.message_id, "dead")
    assert row.error_type == "PermanentError"
    assert "550 5.1.1 No such user here" in row.error_message
    outbox = outbox_row(f"verification:{user_id}:")
    assert (outbox.status, outbox.attempts) == ("failed", 1)
    assert "550 5.1.1 No such user here" in outbox.last_error
    assert smtp_server.accepted == []


def test_a_worker_killed_after_the_mail_was_accepted_and_before_the_ack_sends_nothing_more(
    rabbitmq_broker, start_worker, smtp_server
):
    first = start_worker(SMTP_URL=smtp_server.url)
    key = uuid.uuid4().hex
    message = test_actors.mail_then_linger.send("reader@example.com", key, 3.0)
    wait_for(lambda: smtp_server.accepted, timeout=20, what="the mail to be accepted")
    # …and its outbox row committed as sent: killing before that COMMIT is the one documented window.
    wait_for(lambda: outbox_status(f"email:{key}") == "sent", timeout=5, interval=0.01, what="the commit")

    first.kill()
    start_worker(SMTP_URL=smtp_server.url)

    row = wait_for_status(message.message_id, "done", timeout=30)
    assert row.result == {
        "recipient": "reader@example.com",
        "dedupe_key": f"email:{key}",
        "status": "already_sent",
    }
    assert len(smtp_server.accepted) == 1


def test_the_hourly_reminder_scan_reminds_each_session_once_even_when_run_twice(
    rabbitmq_broker, start_worker, smtp_server
):
    start_worker(SMTP_URL=smtp_server.url)
    student, mentor = add_user(full_name="Алиса"), add_user(full_name="Борис Смирнов")
    now = utcnow()
    with db.session_scope() as session:
        soon = MentorSession(student_id=student, mentor_id=mentor, scheduled_at=now + timedelta(minutes=40))
        later = MentorSession(student_id=student, mentor_id=mentor, scheduled_at=now + timedelta(hours=3))
        done = MentorSession(
            student_id=student,
            mentor_id=mentor,
            scheduled_at=now + timedelta(minutes=20),
            reminder_sent_at=now,
        )
        session.add_all([soon, later, done])
        session.flush()
        soon_id = soon.id

    scans = [email_actors.send_session_reminders.send(), email_actors.send_session_reminders.send()]
    enqueued = sum(wait_for_status(scan.message_id, "done").result["enqueued"] for scan in scans)
    assert enqueued >= 1

    def reminders_done() -> bool:
        with db.session_scope() as session:
            rows = session.scalars(select(Job).where(Job.actor_name == "send_session_reminder")).all()
        return len(rows) == enqueued and all(row.status == "done" for row in rows)

    wait_for(reminders_done, what="every reminder job to finish")

    [mail] = smtp_server.accepted
    assert mail["Subject"].startswith("Напоминание: занятие в")
    assert "Борис Смирнов" in body(mail, "plain")
    with db.session_scope() as session:
        assert session.get(MentorSession, soon_id).reminder_sent_at is not None


def test_a_mail_that_could_never_go_out_is_refused_at_send_and_a_published_one_is_dead_unsent(
    service_settings, rabbitmq_broker, start_worker, smtp_server
):
    injected = "=?utf-8?q?Hi=0D=0AReply-To=3A_attacker=40evil.test?="
    with pytest.raises(InvalidArgument, match="RFC 2047 encoded word"):
        email_actors.send_email.send("reader@example.org", injected)
    with pytest.raises(InvalidArgument, match="'body' is undefined"):
        email_actors.send_email.send("reader@example.org", "Привет")

    message_id = str(uuid.uuid4())  # the same mail published by hand, past send()'s check
    fields = {
        "queue_name": "email",
        "actor_name": "send_email",
        "args": ["reader@example.org", injected, "notification", {"body": "x"}],
        "kwargs": {},
        "options": {},
        "message_id": message_id,
        "message_timestamp": int(time.time() * 1000),
    }
    publish(service_settings.broker_url, "email", json.dumps(fields).encode())
    good = email_actors.send_email.send("reader@example.org", "Привет", "notification", {"body": "x"})
    start_worker(SMTP_URL=smtp_server.url)

    assert "RFC 2047 encoded word" in wait_for_status(message_id, "dead").error_message
    wait_for_status(good.message_id, "done")
    assert [str(mail["Subject"]) for mail in smtp_server.accepted] == ["Привет"]
