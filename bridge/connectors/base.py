"""The connector interface and the normalised shapes every platform's payloads become.

Pure: standard library and ``bridge.errors`` only. Nothing outside a connector package ever sees a platform
payload; the rest of the bridge works on these dataclasses.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol


class EventKind(enum.StrEnum):
    ORDER = "order"  # "the order now looks like this" (created, updated, restored)
    ORDER_DELETED = "order_deleted"
    CUSTOMER_CREATED = "customer_created"
    CUSTOMER_UPDATED = "customer_updated"
    CUSTOMER_DELETED = "customer_deleted"
    PRODUCT_CHANGED = "product_changed"  # issue 3: updated, deleted or restored: cached categories are stale


@dataclass(frozen=True)
class LineItem:
    product_id: str
    variation_id: str
    sku: str
    quantity: int
    subtotal: Decimal  # before discounts, excluding tax
    total: Decimal  # after discounts, excluding tax
    total_tax: Decimal


@dataclass(frozen=True)
class Refund:
    refund_id: str
    amount: Decimal  # positive: what was given back
    reason: str


@dataclass(frozen=True)
class ShopOrder:
    order_id: str
    status: str
    currency: str
    total: Decimal  # what the shopper paid: tax and shipping included; unchanged by refunds
    total_tax: Decimal
    shipping_total: Decimal
    discount_total: Decimal
    customer_id: str | None  # None for guest orders
    email: str  # billing email, as sent
    date_created: datetime | None
    date_modified: datetime | None
    date_paid: datetime | None
    line_items: tuple[LineItem, ...]
    refunds: tuple[Refund, ...]
    coupon_codes: tuple[str, ...]
    # Normalised billing contact (digits of the phone; "street|postcode|country", lower-case), for referral fraud
    # checks: the same person behind two e-mails. Empty when the shop did not send them.
    billing_phone: str = ""
    billing_address: str = ""
    fee_total: Decimal = Decimal(0)  # fee lines (issue 3: an earning base may include them)
    date_completed: datetime | None = None
    # The billing form's name, as sent (a member's display name when the account gives none: bridge/members/names.py)
    billing_first_name: str = ""
    billing_last_name: str = ""

    @property
    def refunded_total(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal(0))


@dataclass(frozen=True)
class ShopCustomer:
    customer_id: str
    email: str
    first_name: str
    last_name: str
    date_created: datetime | None
    date_modified: datetime | None
    birthday: date | None = None  # from the customer's meta data, when the shop collects it (issue 3)


@dataclass(frozen=True)
class ShopEvent:
    kind: EventKind
    topic: str
    resource_id: str
    order: ShopOrder | None = None
    customer: ShopCustomer | None = None


class Connector(Protocol):
    """What the bridge needs from a shop platform. Kept small on purpose: one package per platform."""

    platform: str

    def is_ping(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """True for the platform's "webhook created" probe, which is answered 200 and dropped."""
        ...

    def verify_webhook(self, body: bytes, headers: Mapping[str, str], secret: str) -> None:
        """Check the delivery's signature on the raw bytes. Raises ``InvalidSignature``."""
        ...

    def webhook_topic(self, headers: Mapping[str, str]) -> str:
        """The delivery's topic, e.g. ``order.updated`` ("" when absent)."""
        ...

    def handles_topic(self, topic: str) -> bool:
        """Whether deliveries of this topic are stored and processed (others are logged and dropped)."""
        ...

    def resource_id(self, body: bytes) -> str:
        """The id of the resource a delivery is about, read cheaply at the edge. Raises ``MalformedPayload``."""
        ...

    def parse_event(self, topic: str, body: bytes) -> ShopEvent:
        """Turn a verified delivery into a ``ShopEvent``. Raises ``MalformedPayload``."""
        ...
