"""Money in reports: order amounts are stored as decimal text per shop; a sum only means something in one
currency, so a report sums per currency and says which."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.reports.base import ReportQuery


def amount(text: str | None) -> Decimal:
    """A stored amount (``"12.50"``); an unreadable one counts as 0 (the shop sent it; it never reaches here
    unparsed in practice, but a report must not fail on one row)."""
    try:
        value = Decimal(text or "0")
    except InvalidOperation:
        return Decimal(0)
    return value if value.is_finite() else Decimal(0)


def by_currency(query: ReportQuery, rows: Iterable[tuple[str, Decimal]]) -> dict[str, Any]:
    """``(shop id, amount)`` rows summed: ``{"currency", "amount"}`` when the report's shops share one currency;
    otherwise ``currency`` None and ``by_currency`` holds each sum."""
    currency_of = {shop.id: shop.currency for shop in query.shops}
    sums: dict[str, Decimal] = {}
    for shop_id, value in rows:
        currency = currency_of.get(shop_id)
        if currency is None:  # a shop no longer configured: its money is not this report's
            continue
        sums[currency] = sums.get(currency, Decimal(0)) + value
    currencies = sorted(set(currency_of.values()))
    if len(currencies) == 1:
        return {"currency": currencies[0], "amount": sums.get(currencies[0], Decimal(0))}
    return {"currency": None, "amount": None, "by_currency": dict(sorted(sums.items()))}
