"""Mail actors on the `email` queue: each mail sent once, no secret ever a message argument."""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import CurrentMessage

from broker.runtime import current_settings
from domain import db
from domain import notifications as notification_service
from domain.mail import tokens as token_service
from domain.mail.transport import transport_for
from periodic import schedule


def mail_config() -> notification_service.MailConfig:
    """Sender, link base and transport from this process's settings."""
    settings = current_settings()
    return notification_service.MailConfig(
        sender=settings.mail_from,
        base_url=settings.app_base_url,
        transport=transport_for(settings.smtp_url, settings.mail_outbox_dir),
    )


def request_key() -> str:
    """This message's id: retries and redeliveries of one request share it, a new request does not."""
    return CurrentMessage.get_current_message().message_id


@dramatiq.actor(queue_name="email")
def send_verification_email(user_id: int) -> dict:
    """Issue a verification token and mail its link to the user."""
    return notification_service.send_verification(
        db.session_scope, mail_config(), user_id=user_id, request_key=request_key()
    ).as_dict()


@dramatiq.actor(queue_name="email")
def send_password_reset_email(user_id: int) -> dict:
    """Issue a password-reset token and mail its link to the user."""
    return notification_service.send_password_reset(
        db.session_scope, mail_config(), user_id=user_id, request_key=request_key()
    ).as_dict()


@dramatiq.actor(queue_name="email")
def send_session_reminder(mentor_session_id: int) -> dict:
    """Remind the student of an upcoming mentoring session (once per session)."""
    return notification_service.send_session_reminder(
        db.session_scope, mail_config(), mentor_session_id=mentor_session_id
    ).as_dict()


@dramatiq.actor(queue_name="email")
def send_exam_reminder(attempt_id: int, minutes_remaining: int) -> dict:
    """Mail the student that `minutes_remaining` minutes are left; nothing for a finished attempt."""
    return notification_service.send_exam_reminder(
        db.session_scope, mail_config(), attempt_id=attempt_id, minutes_remaining=minutes_remaining
    ).as_dict()


def check_email(to: str, subject: str, template: str = "notification", context: dict | None = None) -> None:
    """Refuse at send() a mail that could never go out: bad address or subject, missing template values."""
    notification_service.check_notification(to=to, subject=subject, template=template, context=context or {})


@dramatiq.actor(queue_name="email", validate=check_email)
def send_email(to: str, subject: str, template: str = "notification", context: dict | None = None) -> dict:
    """An app's own mail, rendered from one of the templates."""
    return notification_service.send_notification(
        db.session_scope,
        mail_config(),
        to=to,
        subject=subject,
        template=template,
        context=context or {},
        request_key=request_key(),
    ).as_dict()


@dramatiq.actor(queue_name="email", **schedule.periodic_options("send_session_reminders"))
def send_session_reminders() -> dict:
    """Enqueue one reminder for each session starting within the hour that has none yet."""
    with db.session_scope() as session:
        due = notification_service.sessions_to_remind(session)
    for mentor_session_id in due:
        send_session_reminder.send(mentor_session_id)
    return {"enqueued": len(due), "mentor_session_ids": due}


@dramatiq.actor(queue_name="cleanup", **schedule.periodic_options("cleanup_expired_tokens"))
def cleanup_expired_tokens() -> dict:
    """Delete expired verification and reset tokens, and used ones older than a week."""
    with db.session_scope() as session:
        return {"deleted": token_service.cleanup_expired(session)}
