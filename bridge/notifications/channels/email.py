"""E-mail over SMTP (smtplib): STARTTLS or TLS, login, HTML + plain-text parts, one-click unsubscribe headers.

One connection per dispatch batch. A doubled e-mail is possible in one window only: the server accepted the
message and the process died before the delivery was marked sent. The lease then runs out and the message is sent
again with the same ``Message-ID`` (derived from the delivery), which mail clients and many servers use to drop
the duplicate; SMTP offers nothing stronger.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate
from types import TracebackType

from bridge.notifications.channels import Outcome, guard
from bridge.notifications.settings import EmailSettings
from bridge.storage.clock import utcnow


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    message_id: str  # stable per delivery: a resend after a crash carries the same one
    unsubscribe_url: str = ""
    locale: str = "en"


def build(settings: EmailSettings, mail: Mail) -> MIMEMultipart:
    """The message: ``multipart/alternative`` with the text and the HTML part (UTF-8).

    Built with the ``compat32`` classes: ``EmailMessage``'s header registry parses every header it is given, which
    cost 3 ms a message, more than the SMTP exchange on loopback (bench/notify.py).
    """
    message = MIMEMultipart("alternative")
    message["From"] = settings.from_address
    message["To"] = mail.to
    message["Subject"] = Header(mail.subject, "utf-8").encode() if not mail.subject.isascii() else mail.subject
    message["Date"] = formatdate(utcnow().timestamp())
    message["Message-ID"] = mail.message_id
    message["Content-Language"] = mail.locale
    message["Auto-Submitted"] = "auto-generated"
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058: the link works with a POST
    message.attach(MIMEText(mail.text, "plain", "utf-8"))
    message.attach(MIMEText(mail.html, "html", "utf-8"))
    return message


class SmtpSender:
    """``with SmtpSender(settings) as smtp: smtp.send(mail)``: connects on the first message."""

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(self, *exc: object | TracebackType | None) -> None:
        self.close()

    def send(self, mail: Mail) -> Outcome:
        try:
            smtp = self._connection()
            refused = smtp.send_message(build(self.settings, mail))
        except smtplib.SMTPRecipientsRefused as exc:
            return Outcome(False, error=f"recipient refused: {_first(exc.recipients)}", permanent=True)
        except smtplib.SMTPResponseException as exc:
            self.close()
            return Outcome(False, error=f"smtp {exc.smtp_code}", permanent=500 <= exc.smtp_code < 600)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            return Outcome(False, error=f"smtp: {type(exc).__name__}: {exc}")
        if refused:
            return Outcome(False, error=f"recipient refused: {_first(refused)}", permanent=True)
        return Outcome(True, provider_id=mail.message_id)

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        guard(f"SMTP connection to {s.host}:{s.port}")
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
            if s.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if s.username:
            smtp.login(s.username, s.password)
        self._smtp = smtp
        return smtp

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


def _first(refused: object) -> str:
    if isinstance(refused, dict) and refused:
        code, _ = next(iter(refused.values()))
        return str(code)
    return "?"
