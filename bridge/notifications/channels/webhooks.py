"""The owner's webhooks: a JSON POST signed per the Standard Webhooks spec (``standardwebhooks`` package).

Body: ``{"type", "timestamp", "data"}``. Headers ``webhook-id`` (stable per delivery: a receiver that saw it
already drops the repeat, which is what makes a resend after a crash harmless), ``webhook-timestamp`` and
``webhook-signature`` (``v1,<base64 HMAC-SHA256 of id.timestamp.body>``). Any 2xx is success; anything else
(and a timeout) is retried with backoff, then dead-lettered and replayable from the admin API.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bridge.notifications.channels import Outcome, guard, requests_errors
from bridge.notifications.settings import WebhookEndpoint

if TYPE_CHECKING:  # imported by the first send (a worker that sends nothing never holds it)
    import requests

TIMEOUT_SECONDS = 10.0


def body(event_type: str, created_at: datetime, data: dict[str, Any]) -> str:
    return json.dumps(
        {"type": event_type, "timestamp": created_at.isoformat(), "data": data},
        separators=(",", ":"),
        sort_keys=True,
        ensure_ascii=False,
    )


def signed_headers(endpoint: WebhookEndpoint, message_id: str, sent_at: datetime, payload: str) -> dict[str, str]:
    from standardwebhooks.webhooks import Webhook

    signature = Webhook(endpoint.secret).sign(message_id, sent_at, payload)
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }


def send(
    session: requests.Session, endpoint: WebhookEndpoint, message_id: str, sent_at: datetime, payload: str
) -> Outcome:
    guard(f"webhook POST to endpoint {endpoint.id}")
    headers = signed_headers(endpoint, message_id, sent_at, payload)
    try:
        response = session.post(endpoint.url, data=payload.encode(), headers=headers, timeout=TIMEOUT_SECONDS)
    except requests_errors() as exc:
        return Outcome(False, error=f"{type(exc).__name__}")
    if 200 <= response.status_code < 300:
        return Outcome(True, provider_id=message_id)
    return Outcome(False, error=f"http {response.status_code}")
