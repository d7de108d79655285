"""A stored delivery's body with the personal data taken out: what the ledger's traceability needs stays.

Allow-lists, not deny-lists: a field the shop adds tomorrow (a plugin's meta data, a new address line) is dropped
by default. The result still parses (``bridge.connectors.woocommerce.webhooks``), so a replay of an erased
delivery applies the same figures (ids, statuses, totals, refunds, coupon codes, dates) and keys the same entries.
"""

from __future__ import annotations

import json
from typing import Any

from bridge import limits

_ORDER_KEYS = frozenset(
    {
        "id",
        "parent_id",
        "status",
        "currency",
        "prices_include_tax",
        "date_created_gmt",
        "date_modified_gmt",
        "date_paid_gmt",
        "date_completed_gmt",
        "discount_total",
        "discount_tax",
        "shipping_total",
        "shipping_tax",
        "cart_tax",
        "total",
        "total_tax",
        "customer_id",
    }
)
_LIST_KEYS: dict[str, frozenset[str]] = {
    "line_items": frozenset(
        {"id", "product_id", "variation_id", "sku", "quantity", "subtotal", "subtotal_tax", "total", "total_tax"}
    ),
    "refunds": frozenset({"id", "total"}),  # a refund's reason is free text
    "coupon_lines": frozenset({"id", "code", "discount", "discount_tax"}),
    "fee_lines": frozenset({"id", "total", "total_tax"}),
    "shipping_lines": frozenset({"id", "method_id", "total", "total_tax"}),
}
_CUSTOMER_KEYS = frozenset({"id", "date_created_gmt", "date_modified_gmt", "role"})

DROPPED_HEADERS = frozenset({"x-wc-webhook-signature"})
"""An HMAC of the original body: with the shop's secret it would confirm a guess of what the body said."""
SCRUBBED_HEADER = "X-Bridge-Erased"


def scrub_body(topic: str, body: bytes) -> bytes:
    """The body of an order or customer delivery, keeping only non-personal fields; ``{}`` when it is not JSON."""
    try:
        data = limits.load_json(body)
    except Exception:  # a body that never parsed: nothing in it is needed, and anything may be in it
        data = None
    if not isinstance(data, dict):
        return b"{}"
    if topic.startswith("order."):
        kept: dict[str, Any] = {k: v for k, v in data.items() if k in _ORDER_KEYS}
        for name, keys in _LIST_KEYS.items():
            items = data.get(name)
            if isinstance(items, list):
                kept[name] = [{k: v for k, v in i.items() if k in keys} for i in items if isinstance(i, dict)]
    else:
        kept = {k: v for k, v in data.items() if k in _CUSTOMER_KEYS}
    return json.dumps(kept, separators=(",", ":")).encode("utf-8")


def scrub_headers(headers: dict[str, str], pseudonym: str) -> dict[str, str]:
    kept = {k: v for k, v in (headers or {}).items() if k.lower() not in DROPPED_HEADERS}
    kept[SCRUBBED_HEADER] = pseudonym
    return kept
