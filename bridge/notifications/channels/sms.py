"""SMS through providers behind one interface: a generic HTTP-JSON API and Kavenegar's REST API.

Segment counting: a text in the GSM 03.38 alphabet (GSM-7) fits 160 characters in one message and 153 per part
when split; anything else (Persian, emoji) is sent as UCS-2: 70 characters, 67 per part. The preview shows it,
because an owner pays per segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bridge.notifications.channels import Outcome, guard, requests_errors
from bridge.notifications.settings import SmsSettings

if TYPE_CHECKING:  # imported by the first send (a worker that sends nothing never holds it)
    import requests

_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")  # two septets each


@dataclass(frozen=True)
class Segments:
    encoding: str  # GSM-7 | UCS-2
    characters: int  # in the encoding's units (an extended GSM character counts 2, an emoji 2)
    segments: int


def count_segments(text: str) -> Segments:
    if all(ch in _GSM7 or ch in _GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in text)
        return Segments("GSM-7", units, 1 if units <= 160 else -(-units // 153))
    units = len(text.encode("utf-16-le")) // 2
    return Segments("UCS-2", units, 1 if units <= 70 else -(-units // 67))


@dataclass(frozen=True)
class Sms:
    to: str
    text: str
    message_id: str  # stable per delivery; Kavenegar takes it as ``localid`` and refuses a second send with it


class SmsProvider(Protocol):
    def send(self, session: requests.Session, sms: Sms) -> Outcome: ...


def _outcome(response: requests.Response, provider_id: str) -> Outcome:
    if 200 <= response.status_code < 300:
        return Outcome(True, provider_id=provider_id)
    # 4xx: the provider refuses this message (bad number, no credit): retrying the same request cannot help
    permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
    return Outcome(False, error=f"http {response.status_code}", permanent=permanent)


class HttpJsonProvider:
    """POST ``{"to", "text", "sender", "id"}`` to ``url`` with ``Authorization: Bearer <api_key>``."""

    def __init__(self, settings: SmsSettings) -> None:
        self.settings = settings

    def send(self, session: requests.Session, sms: Sms) -> Outcome:
        s = self.settings
        guard("SMS provider request")
        headers = {"Authorization": f"Bearer {s.api_key}"} if s.api_key else {}
        body = {"to": sms.to, "text": sms.text, "sender": s.sender, "id": sms.message_id}
        try:
            response = session.post(s.url, json=body, headers=headers, timeout=s.timeout_seconds)
        except requests_errors() as exc:
            return Outcome(False, error=type(exc).__name__)
        return _outcome(response, sms.message_id)


class KavenegarProvider:
    """Kavenegar's ``sms/send.json`` (https://kavenegar.com/rest.html): the key is part of the path, the message
    form-encoded; ``localid`` makes a resend of the same delivery a no-op on their side."""

    BASE = "https://api.kavenegar.com"

    def __init__(self, settings: SmsSettings) -> None:
        self.settings = settings

    def send(self, session: requests.Session, sms: Sms) -> Outcome:
        s = self.settings
        guard("SMS provider request")
        url = f"{(s.url or self.BASE).rstrip('/')}/v1/{s.api_key}/sms/send.json"
        form = {"receptor": sms.to, "message": sms.text, "localid": sms.message_id}
        if s.sender:
            form["sender"] = s.sender
        try:
            response = session.post(url, data=form, timeout=s.timeout_seconds)
        except requests_errors() as exc:
            return Outcome(False, error=type(exc).__name__)  # never the URL: it holds the API key
        provider_id = sms.message_id
        if response.ok:
            try:
                entries = response.json().get("entries") or [{}]
                provider_id = str(entries[0].get("messageid", provider_id))
            except (ValueError, AttributeError, IndexError):
                pass
        return _outcome(response, provider_id)


def provider_for(settings: SmsSettings) -> SmsProvider | None:
    if settings.provider == "http_json":
        return HttpJsonProvider(settings)
    if settings.provider == "kavenegar":
        return KavenegarProvider(settings)
    return None
