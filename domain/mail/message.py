"""Build the MIME message: multipart/alternative, non-ASCII headers encoded (RFC 2047)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from domain.mail.addresses import check_header, parse_address
from domain.mail.templates import RenderedMail


def build_message(*, sender: str, recipient: str, recipient_name: str, mail: RenderedMail) -> EmailMessage:
    """A ready-to-send message from `sender` to `recipient`; bad addresses or headers are refused."""
    message = EmailMessage()
    message["From"] = parse_address(sender)
    message["To"] = parse_address(recipient, display_name=recipient_name)
    message["Subject"] = check_header(mail.subject, "subject")
    message["Date"] = formatdate(localtime=True)  # the real offset (+0000 here), not -0000 "zone unknown"
    message["Message-ID"] = make_msgid(domain=parse_address(sender).domain)
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    for part in message.iter_parts():
        del part["MIME-Version"]  # it belongs to the top of the message only (RFC 2045)
    return message
