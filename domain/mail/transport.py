"""Send a message over SMTP, or write it as an .eml file when no SMTP server is configured."""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from domain.errors import InvalidArgument, PermanentError, TransientError

DEFAULT_TIMEOUT = 30.0
#: .eml files are readable like any file the user writes (the outbox is for reading them).
EML_MODE = 0o644


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpTransport:
    """SMTP with optional STARTTLS or implicit TLS and login; failures come out transient or permanent."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    implicit_tls: bool = False
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_url(cls, url: str) -> SmtpTransport:
        """`smtp://user:pass@host:587?starttls=true&timeout=10` or `smtps://host:465`."""
        parts = urlsplit(url)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        implicit_tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if implicit_tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            starttls=query.get("starttls", "false").lower() in ("1", "true", "yes"),
            implicit_tls=implicit_tls,
            timeout=float(query.get("timeout", DEFAULT_TIMEOUT)),
        )

    def send(self, message: EmailMessage) -> None:
        try:
            with self._connect() as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            raise _classified(code, reply) from None
        except smtplib.SMTPResponseException as error:
            raise _classified(error.smtp_code, error.smtp_error) from None
        except (OSError, smtplib.SMTPException) as error:
            raise TransientError(f"SMTP server {self.host}:{self.port} unreachable: {error}") from None

    def _connect(self) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)


def _classified(code: int, reply: bytes | str) -> Exception:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    sentence = f"SMTP server answered {code} {text}"
    return TransientError(sentence) if 400 <= code < 500 else PermanentError(sentence)


@dataclass(frozen=True)
class FileTransport:
    """Writes each message to `directory` as an .eml file (the embedded default: nothing leaves here)."""

    directory: Path

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        message_id = str(message["Message-ID"]).strip("<>").replace("/", "_")
        target = self.directory / f"{time.strftime('%Y%m%d-%H%M%S')}-{message_id}.eml"
        with tempfile.NamedTemporaryFile(dir=self.directory, suffix=".tmp", delete=False) as handle:
            handle.write(message.as_bytes())
        os.chmod(handle.name, EML_MODE)  # a temporary file is 0600: nobody else could read the mail
        os.replace(handle.name, target)


def transport_for(smtp_url: str | None, outbox_dir: Path) -> Transport:
    """SMTP when `smtp_url` is set, .eml files otherwise."""
    if not smtp_url:
        return FileTransport(outbox_dir)
    if urlsplit(smtp_url).scheme not in ("smtp", "smtps"):
        raise InvalidArgument(f"SMTP_URL={smtp_url!r} must start with smtp:// or smtps://.")
    return SmtpTransport.from_url(smtp_url)
