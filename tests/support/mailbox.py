"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the notification tests."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

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


class _Login:
    """Accepts one user and password (aiosmtpd refuses AUTH before STARTTLS by default)."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username.encode(), password.encode()
        self.logins: list[str] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = auth_data.login == self.username and auth_data.password == self.password
        if ok:
            self.logins.append(mechanism)
        return AuthResult(success=ok)


class Mailbox:
    def __init__(self, *, starttls: ssl.SSLContext | None = None, login: tuple[str, str] | None = None) -> None:
        self.raw: list[bytes] = []
        self.recipients: list[list[str]] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.login = _Login(*login) if login else None
        extra: dict[str, Any] = {}
        if starttls is not None:
            extra.update(tls_context=starttls, require_starttls=True)
        if self.login is not None:
            extra.update(authenticator=self.login, auth_required=True)
        self._controller = Controller(_Keep(self), hostname="127.0.0.1", port=self.port, **extra)

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
