"""Real WooCommerce deliveries (tests/fixtures/woocommerce) and ways to send them, changed or not."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from bridge.connectors.woocommerce.webhooks import signature_for

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "woocommerce"
SECRET = "whsec-loyalty-test"
"""The secret every captured delivery was signed with."""
CAROL = "carol1795473173@example.test"
"""The billing email of the customer (id 2) in every captured order."""

ORDER_12_SEQUENCE = (
    "order.created.pending",
    "order.updated.after-create",
    "order.updated.processing-paid",
    "order.updated.completed",
    "order.updated.partial-refund",
    "order.updated.fully-refunded",
)
"""The captured life of order 12: 2 x 20.00, 5.00 coupon (line total 35.00), 10% tax, 4.00 shipping."""

DROPPED_HEADERS = {"host", "content-length", "connection", "accept-encoding"}


@cache
def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def headers_of(name: str) -> dict[str, str]:
    return {k: v for k, v in load(name)["headers"].items() if k.lower() not in DROPPED_HEADERS}


def raw_body(name: str) -> bytes:
    body: str = load(name)["raw_body"]
    return body.encode("utf-8")


def payload(name: str) -> dict[str, Any]:
    return json.loads(raw_body(name))


def signed(name: str, data: dict[str, Any], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    """A changed delivery, re-encoded and re-signed the way the shop would sign it."""
    body = json.dumps(data).encode("utf-8")
    headers = headers_of(name)
    headers["X-WC-Webhook-Signature"] = signature_for(body, secret)
    return body, headers


def with_order_id(name: str, order_id: int, **changes: Any) -> tuple[bytes, dict[str, str]]:
    data = payload(name)
    data["id"] = order_id
    data.update(changes)
    return signed(name, data)
