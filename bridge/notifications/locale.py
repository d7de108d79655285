"""Numbers, money and dates in the member's language: Persian digits and Jalali dates (jdatetime) for ``fa``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import jdatetime

_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_PERSIAN_SEPARATORS = str.maketrans({",": "\u066c", ".": "\u066b"})  # Arabic thousands / decimal separators
_EN_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def digits(text: str, locale: str) -> str:
    return text.translate(_PERSIAN_DIGITS) if locale == "fa" else text


def number(value: object, locale: str) -> str:
    """``1234`` -> ``1,234`` (en), or the same in Persian digits and separators (fa)."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = f"{amount:,}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    if locale == "fa":
        return text.translate(_PERSIAN_SEPARATORS).translate(_PERSIAN_DIGITS)
    return text


def money(value: object, currency: str, locale: str) -> str:
    """An amount with its currency code: ``12.50 USD``; Persian digits for ``fa`` (no float on the way)."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return f"{value} {currency}".strip()
    text = f"{amount:,.0f}" if currency in ("IRR", "IRT") else f"{amount:,.2f}"
    if locale == "fa":
        text = text.translate(_PERSIAN_SEPARATORS).translate(_PERSIAN_DIGITS)
    return f"{text} {currency}".strip()


def day(value: object, locale: str, zone: ZoneInfo | None = None) -> str:
    """A calendar day: ``26 November 2026`` (en), or its Jalali date in Persian digits (fa: 5 Azar 1405)."""
    when = _as_date(value, zone)
    if when is None:
        return str(value or "")
    if locale == "fa":
        jalali = jdatetime.date.fromgregorian(date=when, locale="fa_IR")
        return digits(f"{jalali.day} {jalali.j_months_fa[jalali.month - 1]} {jalali.year}", "fa")
    return f"{when.day} {_EN_MONTHS[when.month - 1]} {when.year}"


def _as_date(value: object, zone: ZoneInfo | None) -> date | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return (value.astimezone(zone) if zone and value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    return None


def jalali_today(today: date) -> tuple[int, int]:
    """(month, day) of ``today`` in the Jalali calendar (Nowruz is 1/1, Yalda 9/30)."""
    jalali = jdatetime.date.fromgregorian(date=today)
    return jalali.month, jalali.day
