"""The rules-engine interface: pure functions from normalised events to awards. No IO here."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from bridge.connectors.base import ShopCustomer, ShopOrder


@dataclass(frozen=True)
class OrderContext:
    """What a rule may know besides the order itself."""

    shop_id: str
    currency_minor_unit: int


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


@dataclass(frozen=True)
class RuleSet:
    order_rules: tuple[OrderRule, ...]
    signup_rules: tuple[SignupRule, ...]


def quantize_money(amount: Decimal, minor_unit: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-minor_unit))
