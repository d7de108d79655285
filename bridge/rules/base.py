"""The rules-engine interface: pure functions from normalised events to awards. No IO here.

Everything a rule may know besides the order arrives in an ``OrderContext`` that the caller (the worker, the
explain command, the preview endpoint) fills in: the member's history, tier, earned totals for caps, and the
categories of the products in the order. The engine never asks anybody anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from bridge.connectors.base import ShopCustomer, ShopOrder


@dataclass(frozen=True)
class MemberContext:
    """What we know of the member at the time of the order (filled in by the worker from the database)."""

    member_id: int | None = None
    joined: bool = True  # membership policy: False until a closed/invite-only program lets the member in
    tier: str | None = None
    paid_orders_before: int = 0  # paid orders of this member before this one
    previous_order_at: datetime | None = None  # when the member's previous paid order was paid
    earned: Mapping[str, int] = field(default_factory=dict)  # cap window key -> points already earned in it
    birthday: date | None = None
    segments: frozenset[str] = frozenset()  # issue 16: the member's segments (nightly), read when a rule asks


@dataclass(frozen=True)
class OrderContext:
    """What a rule may know besides the order itself."""

    shop_id: str
    currency_minor_unit: int
    at: datetime  # the order's moment (paid, else created); rules never read the clock themselves
    member: MemberContext = field(default_factory=MemberContext)
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # product id -> category slugs/ids


@dataclass(frozen=True)
class Award:
    """Points a rule grants, with the figures that produced them (kept on the ledger entry for reversals)."""

    rule_id: str
    points: int
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)


class OrderRule(Protocol):
    @property
    def id(self) -> str: ...

    def award_for_order(self, order: ShopOrder, ctx: OrderContext) -> Award | None: ...


class SignupRule(Protocol):
    @property
    def id(self) -> str: ...

    def award_for_signup(self, customer: ShopCustomer) -> Award | None: ...


def in_segments(required: frozenset[str], member_segments: frozenset[str]) -> bool:
    """A rule's ``segments`` condition (issue 16): none set, or the member is in any of them."""
    return not required or bool(required & member_segments)


def quantize_money(amount: Decimal, minor_unit: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-minor_unit))
