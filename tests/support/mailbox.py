"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the notification tests."""

from __future__ import annotations

import logging
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line at INFO


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Keep:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.box.lock:  # kept raw: parsing every message here would make the server the bench's bottleneck
            self.box.raw.append(envelope.original_content or envelope.content)
            self.box.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


class Mailbox:
    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.recipients: list[list[str]] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(_Keep(self), hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        with self.lock:
            raw = list(self.raw)
        parsed = [message_from_bytes(item, policy=policy.default) for item in raw]
        assert all(isinstance(message, EmailMessage) for message in parsed)
        return parsed  # type: ignore[return-value]

    def start(self) -> Mailbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
