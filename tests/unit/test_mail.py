"""The mailer without services: addresses, headers, templates, .eml transport, the outbox on SQLite."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest

from domain import db
from domain.errors import InvalidArgument, PermanentError, TransientError
from domain.mail import tokens
from domain.mail.addresses import parse_address
from domain.mail.message import build_message
from domain.mail.outbox import deliver
from domain.mail.templates import render
from domain.mail.transport import FileTransport, SmtpTransport
from domain.models.accounts import AuthToken, User
from domain.models.base import utcnow
from domain.models.mail import OutboxMail
from domain.notifications import check_notification

SENDER = "BookReader <noreply@bookreader.local>"


@pytest.mark.parametrize(
    "value",
    [
        "plainaddress",
        "@example.com",
        "user@",
        "user@localhost",
        "user@@example.com",
        "a@b.c, d@e.f",
        "user@exa mple.com",
        "user@example.com\r\nBcc: victim@example.com",
        "",
    ],
)
def test_malformed_addresses_are_refused_with_a_clear_error(value):
    with pytest.raises(InvalidArgument, match=r"is not a valid email address|header injection refused"):
        parse_address(value)


def test_a_line_break_in_any_header_value_is_refused():
    mail = render("notification", "ru", {"subject": "Привет\r\nBcc: victim@example.com", "body": "x"})

    with pytest.raises(InvalidArgument, match="header injection refused"):
        build_message(sender=SENDER, recipient="a@example.com", recipient_name="", mail=mail)
    with pytest.raises(InvalidArgument, match=r"display name .* header injection refused"):
        parse_address("a@example.com", display_name="Eve\nBcc: x@example.com")


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        ("=?utf-8?q?Hi=0D=0AReply-To=3A_attacker=40evil.test?=", "RFC 2047 encoded word"),
        ("=?UTF-8?B?SGkNCkZyb206IGV2aWxAZXZpbC50ZXN0?=", "RFC 2047 encoded word"),
        *((f"Hi{char}Bcc: x@evil.test", "line break") for char in "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"),
        ("before\x00after", "control character"),
        ("x" * 501, "501 characters long; at most 500"),
    ],
)
def test_header_values_that_could_inject_or_not_be_stored_are_refused_before_sending(subject, reason):
    with pytest.raises(InvalidArgument, match=reason):
        check_notification(to="a@example.com", subject=subject, template="notification", context={"body": 1})


def test_a_template_value_the_caller_did_not_pass_is_named():
    with pytest.raises(InvalidArgument, match="needs a value the context does not give: 'body' is undefined"):
        check_notification(to="a@example.com", subject="Привет", template="notification", context={})


def test_mails_are_russian_by_default_and_english_by_locale():
    assert render("password_reset", None, {"name": "Иван", "link": "l", "hours": 1}).subject == (
        "Сброс пароля — BookReader"
    )
    assert render("password_reset", "en", {"name": "Ann", "link": "l", "hours": 1}).subject == (
        "Reset your password — BookReader"
    )
    with pytest.raises(InvalidArgument, match="Unknown mail template 'nope'"):
        render("nope", "ru", {})


def test_without_smtp_each_mail_is_written_as_an_eml_file(tmp_path):
    mail = render("notification", "ru", {"subject": "Книга готова", "body": "Иллюстрации созданы."})
    message = build_message(
        sender=SENDER, recipient="reader@example.com", recipient_name="Анна Каренина", mail=mail
    )

    FileTransport(tmp_path).send(message)

    [eml] = list(tmp_path.glob("*.eml"))
    parsed = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Книга готова"
    assert parsed["To"].addresses[0].display_name == "Анна Каренина"
    assert parsed.get_body(("plain",)).get_content().strip() == "Иллюстрации созданы."
    assert not parsed["Date"].endswith("-0000")  # a real offset, not "zone unknown"
    assert [part.get("MIME-Version") for part in parsed.iter_parts()] == [None, None]
    assert eml.stat().st_mode & 0o777 == 0o644


def test_smtp_urls_carry_tls_login_and_timeout():
    transport = SmtpTransport.from_url("smtp://mailer:p%40ss@mail.example:587?starttls=true&timeout=7")

    assert (transport.host, transport.port, transport.username, transport.password) == (
        "mail.example",
        587,
        "mailer",
        "p@ss",
    )
    assert transport.starttls and not transport.implicit_tls and transport.timeout == 7
    assert SmtpTransport.from_url("smtps://mail.example").port == 465


class FlakyTransport:
    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.sent = []

    def send(self, message) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)


def compose(session):
    mail = render("notification", "ru", {"subject": "s", "body": "b"})
    return build_message(sender=SENDER, recipient="a@example.com", recipient_name="", mail=mail)


def send(transport, key="k"):
    return deliver(
        db.session_scope,
        dedupe_key=key,
        recipient="a@example.com",
        template="notification",
        compose=compose,
        transport=transport,
    )


def outbox(key="k") -> OutboxMail:
    with db.session_scope() as session:
        return session.query(OutboxMail).filter_by(dedupe_key=key).one()


def test_a_mail_is_sent_once_however_often_it_is_asked_for(sqlite_url):
    transport = FlakyTransport()

    statuses = [send(transport).status for _ in range(3)]

    assert statuses == ["sent", "already_sent", "already_sent"]
    assert len(transport.sent) == 1
    assert (outbox().status, outbox().attempts) == ("sent", 1)


def test_a_transient_failure_is_recorded_and_the_mail_stays_pending(sqlite_url):
    transport = FlakyTransport(TransientError("SMTP server answered 451 busy"))

    with pytest.raises(TransientError):
        send(transport)
    assert (outbox().status, outbox().attempts, outbox().last_error) == (
        "pending",
        1,
        "SMTP server answered 451 busy",
    )
    assert send(transport).status == "sent"


def test_a_permanent_failure_marks_the_mail_failed_for_good(sqlite_url):
    transport = FlakyTransport(PermanentError("SMTP server answered 550 no such user"))

    with pytest.raises(PermanentError):
        send(transport)

    assert outbox().status == "failed"
    assert send(transport).status == "already_failed"
    assert transport.sent == []


def test_expired_and_long_used_tokens_are_cleaned_up(sqlite_url):
    with db.session_scope() as session:
        user = User(email="t@example.com", username="t", full_name="", locale="ru")
        session.add(user)
        session.flush()
        fresh = tokens.issue(session, user=user, kind=tokens.VERIFICATION)
        session.add_all(
            [
                AuthToken(
                    user_id=user.id,
                    kind="verification",
                    token_hash="old",
                    expires_at=utcnow() - timedelta(hours=1),
                ),
                AuthToken(
                    user_id=user.id,
                    kind="password_reset",
                    token_hash="used",
                    expires_at=utcnow() + timedelta(hours=1),
                    used_at=utcnow() - timedelta(days=8),
                ),
            ]
        )

    with db.session_scope() as session:
        assert tokens.cleanup_expired(session) == 2
        assert tokens.redeem(session, raw=fresh, kind=tokens.VERIFICATION).email == "t@example.com"
        assert tokens.redeem(session, raw=fresh, kind=tokens.VERIFICATION) is None  # one use only
