"""What the club owes its members: outstanding points and their worth, a journal that reconciles with the ledger,
and the breakage to expect.

Definitions (days are the program's local days; the range is ``from``..``to``, both included):

- ``points.available`` / ``points.pending``: the sum of every ledger entry created before the range's end, by
  state (the balance the members hold at that moment; pending points are still in the hold).
- ``point_value``: the cheapest currency per point a member can get from the enabled rewards
  (``bridge.reports.overview.point_value``). ``value.amount``: ``(available + pending) x point_value`` rounded
  down to the currency's minor unit, with ``value.available`` and ``value.pending`` for each part; None when no
  reward gives a value or the shops use several currencies.
- ``journal``: one row per period. ``opening``: the ledger's sum before the period; ``issued``, ``adjusted``,
  ``reversed``, ``redeemed`` (net of points given back), ``expired``: as ``bridge.reports.overview.Flow``;
  ``closing``: the ledger's sum before the period's end. ``opening + issued + adjusted - reversed - redeemed -
  expired = closing`` exactly (releases only move points between pending and available: they net to zero).
- ``expected_breakage`` (an estimate): ``rate = expired / (expired + redeemed)`` over the 365 days before the
  range's end (points that left the ledger unused, out of all that left it by expiry or spending), and
  ``points = rate x available``, rounded down: the share of today's available points history says will never
  be spent. None when nothing expired or was redeemed in that time.
- With ``shop``: the entries written for that shop only (manual adjustments have no shop and are left out).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import Connection

from bridge.ledger.model import EntryState
from bridge.reports import flows
from bridge.reports.base import Period, Report, ReportQuery, Table
from bridge.reports.overview import Flow, point_value

BREAKAGE_DAYS = 365
JOURNAL_COLUMNS = ("period", "opening", "issued", "adjusted", "reversed", "redeemed", "expired", "closing")


def build(conn: Connection, query: ReportQuery) -> Report:
    rolled = flows.rolled_until(conn, query)
    periods = query.periods()
    moved = flows.movements(conn, query, periods, rolled)
    opening = sum(flows.balance_before(conn, query, query.start, rolled).values())
    journal: list[tuple[Any, ...]] = []
    for period, movement in zip(periods, moved, strict=True):
        flow = Flow.of([movement])
        closing = opening + flows.net(movement)
        journal.append(
            (
                period.label,
                opening,
                flow.issued,
                flow.adjusted,
                flow.reversed,
                flow.redeemed,
                flow.expired,
                closing,
            )
        )
        opening = closing
    held = flows.balance_before(conn, query, query.end, rolled)
    available, pending = held[EntryState.AVAILABLE], held[EntryState.PENDING]
    value = point_value(query.program.rewards)
    breakage = _breakage(conn, query, rolled, available)
    data: dict[str, Any] = {
        "points": {"available": available, "pending": pending},
        "value": _value(query, value, available, pending),
        "point_value": value,
        "expected_breakage": breakage,
        "journal": [dict(zip(JOURNAL_COLUMNS, row, strict=True)) for row in journal],
    }
    summary = [
        ("available", available),
        ("pending", pending),
        ("currency", data["value"]["currency"]),
        ("amount", data["value"]["amount"]),
        ("point_value", value),
        ("breakage_rate", breakage["rate"]),
        ("breakage_points", breakage["points"]),
    ]
    return Report(
        name="liability",
        data=data,
        tables=(Table("journal", JOURNAL_COLUMNS, journal), Table("summary", ("figure", "value"), summary)),
        method=(
            "Points and journal: exact sums of the ledger. Expected breakage is an estimate: " + breakage["method"]
        ),
    )


def _value(query: ReportQuery, value: Decimal | None, available: int, pending: int) -> dict[str, Any]:
    currencies = {(shop.currency, shop.minor_unit) for shop in query.shops}
    if value is None or len(currencies) != 1:
        return {"currency": None, "amount": None, "available": None, "pending": None}
    ((currency, minor_unit),) = currencies
    quantum = Decimal(1).scaleb(-minor_unit)

    def worth(points: int) -> Decimal:
        return (value * points).quantize(quantum, rounding=ROUND_DOWN)

    return {
        "currency": currency,
        "amount": worth(available + pending),
        "available": worth(available),
        "pending": worth(pending),
    }


def _breakage(conn: Connection, query: ReportQuery, rolled: datetime | None, available: int) -> dict[str, Any]:
    first = query.last - timedelta(days=BREAKAGE_DAYS - 1)
    trailing = dataclasses.replace(query, first=first)
    whole = [Period(first, query.last, trailing.start, trailing.end)]
    flow = Flow.of(flows.movements(conn, trailing, whole, rolled))
    left = flow.expired + flow.redeemed
    method = (
        f"expired / (expired + redeemed) over the {BREAKAGE_DAYS} days up to {query.last.isoformat()} "
        f"({flow.expired} expired, {flow.redeemed} redeemed), times the available points"
    )
    if left <= 0:
        return {"rate": None, "points": None, "expired": flow.expired, "redeemed": flow.redeemed, "method": method}
    rate = (Decimal(flow.expired) / Decimal(left)).quantize(Decimal("0.0001"))
    points = int((rate * available).to_integral_value(rounding=ROUND_DOWN))
    return {"rate": rate, "points": points, "expired": flow.expired, "redeemed": flow.redeemed, "method": method}
