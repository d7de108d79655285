"""Normalised orders and rule sets for the pure rules tests (no shop, no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bridge.config import settings_from
from bridge.connectors.base import LineItem, ShopOrder
from bridge.rules import MemberContext, OrderContext, RuleSet, build_rules

PAID_AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday


def line(product: str = "10", total: str = "10.00", *, sku: str = "", tax: str = "0", qty: int = 1) -> LineItem:
    return LineItem(product, "0", sku, qty, Decimal(total), Decimal(total), Decimal(tax))


def order(*lines: LineItem, shipping: str = "0", fees: str = "0", tax: str | None = None, **kw: Any) -> ShopOrder:
    items = lines or (line(),)
    line_total = sum((i.total for i in items), Decimal(0))
    line_tax = sum((i.total_tax for i in items), Decimal(0))
    total_tax = Decimal(tax) if tax is not None else line_tax
    fields: dict[str, Any] = {
        "order_id": "1",
        "status": "processing",
        "currency": "USD",
        "total": line_total + total_tax + Decimal(shipping) + Decimal(fees),
        "total_tax": total_tax,
        "shipping_total": Decimal(shipping),
        "discount_total": Decimal(0),
        "customer_id": "2",
        "email": "carol@example.test",
        "date_created": PAID_AT,
        "date_modified": PAID_AT,
        "date_paid": PAID_AT,
        "line_items": items,
        "refunds": (),
        "coupon_codes": (),
        "fee_total": Decimal(fees),
    }
    fields.update(kw)
    return ShopOrder(**fields)


def rules(rules: list[dict[str, Any]] | None = None, **program: Any) -> RuleSet:
    earn = {"points_per_currency_unit": program.pop("ppcu", 1), "rules": rules or []}
    earn.update(program.pop("earn", {}))
    settings = settings_from({"program": {"earn": earn, **program}})
    return build_rules(settings.program)


def ctx(at: datetime = PAID_AT, categories: dict[str, tuple[str, ...]] | None = None, **member: Any) -> OrderContext:
    return OrderContext("shop", 2, at=at, member=MemberContext(**member), categories=categories or {})
