"""A real SMTP server on loopback (aiosmtpd) whose replies a test can script."""

from __future__ import annotations

import socket
import threading
from collections import deque
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class ScriptedHandler:
    """Accepts mail with 250 unless the next scripted reply says otherwise (e.g. 451, 550)."""

    def __init__(self) -> None:
        self.replies: deque[str] = deque()
        self.accepted: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            reply = self.replies.popleft() if self.replies else "250 2.0.0 Message accepted"
            if reply.startswith("250"):
                self.accepted.append(message_from_bytes(envelope.content, policy=policy.default))
        return reply


class SmtpServer:
    """The server, its URL, and what it accepted."""

    def __init__(self) -> None:
        self.handler = ScriptedHandler()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout=5"

    @property
    def accepted(self) -> list[EmailMessage]:
        with self.handler.lock:
            return list(self.handler.accepted)

    def reply_next(self, *replies: str) -> None:
        """Answer the next DATA commands with these replies, in order."""
        with self.handler.lock:
            self.handler.replies.extend(replies)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
