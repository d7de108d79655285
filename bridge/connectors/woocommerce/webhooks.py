"""Verify and parse WooCommerce webhook deliveries.

Verification runs on the raw bytes before any JSON parsing. Parsing keeps only the fields we use and ignores
the rest, because shops add fields without notice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bridge import limits
from bridge.connectors.base import (
    EventKind,
    LineItem,
    Refund,
    ShopCustomer,
    ShopEvent,
    ShopOrder,
)
from bridge.connectors.woocommerce import consts
from bridge.errors import InvalidSignature, MalformedPayload

_PING_BODY = re.compile(rb"^webhook_id=\d+$")
MAX_NAME_PART = 1000  # characters kept of a first or last name from a payload, before cleaning


def signature_for(body: bytes, secret: str) -> str:
    """The value WooCommerce puts in ``X-WC-Webhook-Signature`` for ``body``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_signature(body: bytes, headers: Mapping[str, str], secret: str) -> None:
    """Raise ``InvalidSignature`` unless the header matches the HMAC of the raw body.

    A missing secret fails closed: it is a configuration error, never a reason to skip the check.
    """
    if not secret:
        raise RuntimeError("webhook secret missing for this shop: refusing to accept deliveries")
    given = headers.get(consts.HEADER_SIGNATURE, "")
    if not given:
        raise InvalidSignature("missing X-WC-Webhook-Signature header")
    expected = signature_for(body, secret)
    if not hmac.compare_digest(given.strip().encode("ascii", "replace"), expected.encode("ascii")):
        raise InvalidSignature("signature does not match the body")


def is_ping(body: bytes, headers: Mapping[str, str]) -> bool:
    """The unsigned, form-encoded ``webhook_id=N`` probe sent when a webhook is created."""
    if headers.get(consts.HEADER_SIGNATURE) or headers.get(consts.HEADER_TOPIC):
        return False
    content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
    return content_type == consts.PING_CONTENT_TYPE and bool(_PING_BODY.match(body.strip()))


def load_json_object(body: bytes) -> dict[str, Any]:
    """The delivery's JSON object, decoded within ``bridge.limits`` (UTF-8, depth, no NaN, no lone surrogates)."""
    data = limits.load_json(body)
    if not isinstance(data, dict):
        raise MalformedPayload("body must be a JSON object")
    return data


def parse_order(data: Mapping[str, Any]) -> ShopOrder:
    billing = data.get("billing") or {}
    customer_id = limits.whole_number(data.get("customer_id", 0), "customer_id")
    if customer_id < 0:
        raise MalformedPayload("customer_id must not be negative")
    return ShopOrder(
        order_id=_id(data),
        status=limits.bounded_text(data.get("status"), "status", limits.MAX_STATUS_LENGTH),
        currency=limits.bounded_text(data.get("currency"), "currency", limits.MAX_STATUS_LENGTH).upper(),
        total=_money(data.get("total"), "total"),
        total_tax=_money(data.get("total_tax"), "total_tax"),
        shipping_total=_money(data.get("shipping_total"), "shipping_total"),
        discount_total=_money(data.get("discount_total"), "discount_total"),
        customer_id=None if customer_id == consts.GUEST_CUSTOMER_ID else str(customer_id),
        email=_email(billing.get("email") if isinstance(billing, Mapping) else ""),
        date_created=_gmt(data.get("date_created_gmt")),
        date_modified=_gmt(data.get("date_modified_gmt")),
        date_paid=_gmt(data.get("date_paid_gmt")),
        line_items=tuple(_line_item(item) for item in _list(data.get("line_items"), "line_items")),
        refunds=tuple(_refund(item) for item in _list(data.get("refunds"), "refunds")),
        coupon_codes=tuple(
            _str(c.get("code"))[: limits.MAX_ID_LENGTH].lower() for c in _list(data.get("coupon_lines"), "coupon_lines")
        ),
        billing_phone=_phone(billing.get("phone") if isinstance(billing, Mapping) else None),
        billing_address=_address(billing if isinstance(billing, Mapping) else {}),
        fee_total=sum(
            (_money(f.get("total"), "fee_lines.total") for f in _list(data.get("fee_lines"), "fee_lines")), Decimal(0)
        ),
        date_completed=_gmt(data.get("date_completed_gmt")),
        billing_first_name=_name_part(billing.get("first_name") if isinstance(billing, Mapping) else None),
        billing_last_name=_name_part(billing.get("last_name") if isinstance(billing, Mapping) else None),
    )


def _name_part(value: Any) -> str:
    """A name part as text, cut well past any real name (``bridge.members.names.clean`` bounds the whole name)."""
    return value[:MAX_NAME_PART] if isinstance(value, str) else ""


def _coupon_code(value: Any) -> str:
    """Lower case, as WooCommerce compares codes; a longer code than ours is not one of ours (cut for lookups)."""
    return _str(value)[: limits.MAX_ID_LENGTH].lower()


def _email(value: Any) -> str:
    """The address, or "" when it is longer than any deliverable one: a billing form accepts anything typed, and
    such an address is nobody's (the order still belongs to its account, if any)."""
    email = _str(value)
    return email if len(email) <= limits.MAX_EMAIL_LENGTH else ""


def _phone(value: Any) -> str:
    digits = "".join(ch for ch in _str(value) if ch.isdigit())
    return digits if len(digits) >= 6 else ""


def _address(billing: Mapping[str, Any]) -> str:
    street = " ".join(_str(billing.get("address_1")).lower().split())
    if not street:
        return ""
    postcode = "".join(_str(billing.get("postcode")).lower().split())
    return f"{street}|{postcode}|{_str(billing.get('country')).lower()}"


def parse_customer(data: Mapping[str, Any]) -> ShopCustomer:
    return ShopCustomer(
        customer_id=_id(data),
        email=_email(data.get("email")),
        first_name=_name_part(data.get("first_name")),
        last_name=_name_part(data.get("last_name")),
        date_created=_gmt(data.get("date_created_gmt")),
        date_modified=_gmt(data.get("date_modified_gmt")),
        birthday=_birthday(data.get("meta_data")),
    )


BIRTHDAY_META_KEYS = ("birthday", "date_of_birth", "billing_birthday", "_birthday")


def _birthday(meta: Any) -> date | None:
    """A birthday from the customer's meta data (plugins store it under one of a few keys), or None."""
    if not isinstance(meta, list):
        return None
    for item in meta:
        if isinstance(item, Mapping) and item.get("key") in BIRTHDAY_META_KEYS and isinstance(item.get("value"), str):
            try:
                return date.fromisoformat(item["value"].strip()[:10])
            except ValueError:
                continue
    return None


def _order_event(topic: str, data: Mapping[str, Any]) -> ShopEvent:
    order = parse_order(data)
    return ShopEvent(EventKind.ORDER, topic, order.order_id, order=order)


def _order_deleted_event(topic: str, data: Mapping[str, Any]) -> ShopEvent:
    return ShopEvent(EventKind.ORDER_DELETED, topic, _id(data))


def _customer_created_event(topic: str, data: Mapping[str, Any]) -> ShopEvent:
    customer = parse_customer(data)
    return ShopEvent(EventKind.CUSTOMER_CREATED, topic, customer.customer_id, customer=customer)


def _customer_updated_event(topic: str, data: Mapping[str, Any]) -> ShopEvent:
    customer = parse_customer(data)
    return ShopEvent(EventKind.CUSTOMER_UPDATED, topic, customer.customer_id, customer=customer)


def _customer_deleted_event(topic: str, data: Mapping[str, Any]) -> ShopEvent:
    return ShopEvent(EventKind.CUSTOMER_DELETED, topic, _id(data))


def _product_changed_event(topic: str, data: Mapping[str, Any]) -> ShopEvent:
    return ShopEvent(EventKind.PRODUCT_CHANGED, topic, _id(data))


EVENT_PARSERS: dict[str, Callable[[str, Mapping[str, Any]], ShopEvent]] = {
    consts.TOPIC_ORDER_CREATED: _order_event,
    consts.TOPIC_ORDER_UPDATED: _order_event,
    consts.TOPIC_ORDER_RESTORED: _order_event,
    consts.TOPIC_ORDER_DELETED: _order_deleted_event,
    consts.TOPIC_CUSTOMER_CREATED: _customer_created_event,
    consts.TOPIC_CUSTOMER_UPDATED: _customer_updated_event,
    consts.TOPIC_CUSTOMER_DELETED: _customer_deleted_event,
    consts.TOPIC_PRODUCT_UPDATED: _product_changed_event,
    consts.TOPIC_PRODUCT_DELETED: _product_changed_event,
    consts.TOPIC_PRODUCT_RESTORED: _product_changed_event,
}
SUPPORTED_TOPICS = frozenset(EVENT_PARSERS)


def parse_event(topic: str, body: bytes) -> ShopEvent:
    """Turn a verified delivery into a ``ShopEvent``; raises ``MalformedPayload``."""
    parser = EVENT_PARSERS.get(topic)
    if parser is None:
        raise MalformedPayload(f"unsupported topic {topic!r}")
    return parser(topic, load_json_object(body))


def _id(data: Mapping[str, Any]) -> str:
    return str(limits.row_id(data.get("id"), "id"))


def _count(value: Any, name: str) -> int:
    number = limits.whole_number(value, name)
    if abs(number) > limits.MAX_COUNT:
        raise MalformedPayload(f"{name} must be at most {limits.MAX_COUNT:,}")
    return number


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _list(value: Any, name: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise MalformedPayload(f"{name} must be a list of objects")
    return value


def _money(value: Any, name: str) -> Decimal:
    """Money arrives as strings ("42.90"), sometimes unpadded ("5") or as numbers; never via float."""
    return limits.amount(value, name)


def _gmt(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    except ValueError as exc:
        raise MalformedPayload(f"bad GMT date {value!r}") from exc


def _optional_id(value: Any, name: str) -> int:
    """An id where 0 means none (a line's variation, a deleted product)."""
    return 0 if value in (0, "0", None, "") else limits.row_id(value, name)


def _line_item(item: Mapping[str, Any]) -> LineItem:
    return LineItem(
        product_id=str(_optional_id(item.get("product_id", 0), "line_items.product_id")),
        variation_id=str(_optional_id(item.get("variation_id", 0), "line_items.variation_id")),
        sku=_str(item.get("sku")),
        quantity=_count(item.get("quantity", 0), "line_items.quantity"),
        subtotal=_money(item.get("subtotal"), "line_items.subtotal"),
        total=_money(item.get("total"), "line_items.total"),
        total_tax=_money(item.get("total_tax"), "line_items.total_tax"),
    )


def _refund(item: Mapping[str, Any]) -> Refund:
    # WooCommerce lists refunds with negative totals ("-10.00"); we store what was given back.
    return Refund(
        refund_id=_id(item),
        amount=abs(_money(item.get("total"), "refunds.total")),
        reason=_str(item.get("reason")),
    )
