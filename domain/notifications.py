"""The platform's mails: verification, password reset, session and exam reminders, apps' own notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.db import SessionScope
from domain.errors import InvalidArgument, NotFound
from domain.mail import tokens
from domain.mail.addresses import check_header, parse_address
from domain.mail.message import build_message
from domain.mail.outbox import Delivery, deliver
from domain.mail.templates import RenderedMail, render
from domain.mail.transport import Transport
from domain.models.accounts import MentorSession, User
from domain.models.base import utcnow
from domain.models.exams import Exam, ExamAttempt

#: Reminders go out for sessions starting within this window.
REMINDER_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class MailConfig:
    """Where mail comes from, where its links point, and how it leaves."""

    sender: str
    base_url: str
    transport: Transport


def send_verification(scope: SessionScope, config: MailConfig, *, user_id: int, request_key: str) -> Delivery:
    """Mail `user_id` a link that verifies their address; the token is issued in the sending transaction."""
    return _send_token_mail(scope, config, user_id, tokens.VERIFICATION, "verify-email", request_key)


def send_password_reset(
    scope: SessionScope, config: MailConfig, *, user_id: int, request_key: str
) -> Delivery:
    """Mail `user_id` a password-reset link."""
    return _send_token_mail(scope, config, user_id, tokens.PASSWORD_RESET, "reset-password", request_key)


def send_session_reminder(scope: SessionScope, config: MailConfig, *, mentor_session_id: int) -> Delivery:
    """Remind the student of a mentoring session (once per session, whoever asks how often)."""
    with scope() as session:
        mentor_session = _get(session, MentorSession, mentor_session_id, "Mentor session")
        student = _get(session, User, mentor_session.student_id, "User")
        mentor = _get(session, User, mentor_session.mentor_id, "User")
        recipient, name, locale = student.email, student.full_name or student.username, student.locale
        context = {
            "name": name,
            "partner": mentor.full_name or mentor.username,
            "starts_at": mentor_session.scheduled_at.strftime("%d.%m.%Y %H:%M"),
            "link": mentor_session.link or f"{config.base_url}/sessions/{mentor_session.id}",
        }
    mail = render("session_reminder", locale, context)

    def mark_reminded(session: Session) -> None:
        session.get(MentorSession, mentor_session_id).reminder_sent_at = utcnow()

    return deliver(
        scope,
        dedupe_key=f"session-reminder:{mentor_session_id}",
        recipient=recipient,
        template=mail.template,
        compose=lambda _: build_message(
            sender=config.sender, recipient=recipient, recipient_name=name, mail=mail
        ),
        transport=config.transport,
        on_sent=mark_reminded,
    )


def send_exam_reminder(
    scope: SessionScope, config: MailConfig, *, attempt_id: int, minutes_remaining: int
) -> Delivery:
    """Tell the student how many minutes are left (once per attempt and mark); an attempt that is no
    longer running (finished by hand or by `auto_finish_exam`) gets no mail: status `skipped`."""
    if not isinstance(minutes_remaining, int) or isinstance(minutes_remaining, bool) or minutes_remaining < 1:
        raise InvalidArgument(f"minutes_remaining must be a whole number above 0, not {minutes_remaining!r}.")
    dedupe_key = f"exam-reminder:{attempt_id}:{minutes_remaining}"
    with scope() as session:
        attempt = _get(session, ExamAttempt, attempt_id, "Exam attempt")
        student = _get(session, User, attempt.user_id, "User")
        if attempt.status != "in_progress":
            return Delivery(student.email, dedupe_key, "skipped")
        exam = session.get(Exam, attempt.exam_id)
        recipient, name, locale = student.email, student.full_name or student.username, student.locale
        context = {
            "name": name,
            "exam": exam.title if exam else "",
            "minutes_remaining": minutes_remaining,
        }
    mail = render("exam_reminder", locale, context)
    return deliver(
        scope,
        dedupe_key=dedupe_key,
        recipient=recipient,
        template=mail.template,
        compose=lambda _: build_message(
            sender=config.sender, recipient=recipient, recipient_name=name, mail=mail
        ),
        transport=config.transport,
    )


def send_notification(
    scope: SessionScope,
    config: MailConfig,
    *,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    request_key: str,
) -> Delivery:
    """An app's own mail from one of the templates, to any valid address."""
    mail = check_notification(to=to, subject=subject, template=template, context=context)
    return deliver(
        scope,
        dedupe_key=f"email:{request_key}",
        recipient=to,
        template=template,
        compose=lambda _: build_message(sender=config.sender, recipient=to, recipient_name="", mail=mail),
        transport=config.transport,
    )


def check_notification(*, to: str, subject: str, template: str, context: dict[str, Any]) -> RenderedMail:
    """The rendered mail, or InvalidArgument naming what cannot be sent: a bad address, a subject
    that could inject headers or is too long, a template variable the context lacks."""
    parse_address(to)
    check_header(subject, "subject")
    if not isinstance(context, dict):
        raise InvalidArgument(f"The mail context must be an object, not {type(context).__name__}.")
    mail = render(template, context.get("locale"), {"subject": subject, **context})
    check_header(mail.subject, "subject")
    return mail


def sessions_to_remind(session: Session, *, now: datetime | None = None) -> list[int]:
    """Sessions starting within the next hour whose student has not been reminded."""
    now = now or utcnow()
    statement = select(MentorSession.id).where(
        MentorSession.scheduled_at > now,
        MentorSession.scheduled_at <= now + REMINDER_WINDOW,
        MentorSession.reminder_sent_at.is_(None),
    )
    return list(session.scalars(statement.order_by(MentorSession.scheduled_at)))


def _send_token_mail(
    scope: SessionScope, config: MailConfig, user_id: int, kind: str, path: str, request_key: str
) -> Delivery:
    with scope() as session:
        user = _get(session, User, user_id, "User")
        recipient, name, locale = user.email, user.full_name or user.username, user.locale
    parse_address(recipient, display_name=name)
    hours = int(tokens.LIFETIMES[kind].total_seconds() // 3600)

    def compose(session: Session) -> Any:
        raw = tokens.issue(session, user=session.get(User, user_id), kind=kind)
        mail = render(
            kind, locale, {"name": name, "link": f"{config.base_url}/{path}?token={raw}", "hours": hours}
        )
        return build_message(sender=config.sender, recipient=recipient, recipient_name=name, mail=mail)

    return deliver(
        scope,
        dedupe_key=f"{kind}:{user_id}:{request_key}",
        recipient=recipient,
        template=kind,
        compose=compose,
        transport=config.transport,
    )


def _get(session: Session, model: type, key: int, what: str) -> Any:
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"{what} {key!r} not found.")
    return row
