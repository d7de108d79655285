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
    minor_of = {shop.currency: shop.minor_unit for shop in query.shops}
    sums: dict[str, Decimal] = {}
    for shop_id, value in rows:
        currency = currency_of.get(shop_id)
        if currency is None:  # a shop no longer configured: its money is not this report's
            continue
        sums[currency] = sums.get(currency, Decimal(0)) + value
    currencies = sorted(set(currency_of.values()))
    if len(currencies) == 1:
        return {
            "currency": currencies[0],
            "amount": _cents(sums.get(currencies[0], Decimal(0)), minor_of[currencies[0]]),
        }
    by_currency = {currency: _cents(value, minor_of[currency]) for currency, value in sorted(sums.items())}
    return {"currency": None, "amount": None, "by_currency": by_currency}


def single(query: ReportQuery, value: Decimal) -> Decimal | None:
    """``value`` in the minor unit of the report's one currency; None when its shops use several."""
    currencies = {(shop.currency, shop.minor_unit) for shop in query.shops}
    if len(currencies) != 1:
        return None
    ((_, minor_unit),) = currencies
    return _cents(value, minor_unit)


def _cents(value: Decimal, minor_unit: int) -> Decimal:
    """Written with the currency's decimals (``0`` as ``0.00``): amounts are sums of amounts in that unit."""
    return value.quantize(Decimal(1).scaleb(-minor_unit))
