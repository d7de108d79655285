"""The liability journal reconciles with the ledger, on SQLite and PostgreSQL: every period's ``closing`` is the
sum of the entries created before the period's end, counted here from the raw rows, and ``opening + issued +
adjusted - reversed - redeemed - expired = closing``; by day, week and month, in a zone whose days do not start
on a UTC hour, with the rollups covering part of the range."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bridge.reports import catalog
from bridge.reports.days import day_start
from bridge.storage import db
from bridge.storage import tables as t
from tests.integration.conftest import BOTH_BACKENDS
from tests.reports import dataset
from tests.reports.test_overview_exact import TEHRAN, at, club, workload
from tests.support.client import Bridge
from tests.support.clock import TEST_NOW


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def raw_sum_before(bridge: Bridge, day: date, zone: ZoneInfo) -> int:
    e = t.ledger_entry.c
    with db.read(bridge.rt.engine) as conn:
        return sum(int(p) for p in conn.scalars(select(e.points).where(e.created_at < day_start(day, zone))))


@pytest.mark.parametrize("interval", ["day", "week", "month"])
def test_every_closing_equals_a_raw_recount(make_bridge: Callable[..., Bridge], interval: str) -> None:
    bridge = club(make_bridge)
    workload(bridge)  # three months of every kind of movement; the rollup job ran on the way
    now = at(TEST_NOW)
    zone = ZoneInfo(TEHRAN)
    first, last = date(2026, 9, 3), date(2026, 11, 26)
    query = catalog.parse_query(
        bridge.rt.settings, now, first=first.isoformat(), last=last.isoformat(), interval=interval
    )
    with db.read(bridge.rt.engine) as conn:
        data = catalog.REPORTS["liability"](conn, query).data
    journal = data["journal"]
    assert journal[0]["opening"] == raw_sum_before(bridge, first, zone)
    moved = {"issued": 0, "reversed": 0, "redeemed": 0, "expired": 0, "adjusted": 0}
    for row in journal:
        following = [r for r in journal if r["period"] > row["period"]]
        end = date.fromisoformat(following[0]["period"]) if following else last + timedelta(days=1)
        assert row["closing"] == raw_sum_before(bridge, end, zone), row
        assert (
            row["opening"] + row["issued"] + row["adjusted"] - row["reversed"] - row["redeemed"] - row["expired"]
            == row["closing"]
        )
        for key in moved:
            moved[key] += row[key]
    assert all(moved.values())  # every kind of movement is in the range
    assert data["points"]["available"] + data["points"]["pending"] == journal[-1]["closing"]


def test_the_hand_checked_reports_on_this_backend(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(program=dataset.PROGRAM)
    dataset.build(bridge)
    dataset.at("11-26", 12)
    query = catalog.parse_query(bridge.rt.settings, TEST_NOW, first="2026-08-01", last="2026-10-31")
    with db.read(bridge.rt.engine) as conn:
        data = catalog.REPORTS["liability"](conn, query).data
    assert [row["closing"] for row in data["journal"]] == [1550, 2100, 1560]
    assert data["points"] == {"available": 1160, "pending": 400}
    # the statements that name each row's period (a CASE) and the order and coupon ranges, on this backend too
    by_day = catalog.parse_query(bridge.rt.settings, TEST_NOW, first="2024-01-01", last="2027-01-03", interval="day")
    with db.read(bridge.rt.engine) as conn:
        program = catalog.REPORTS["program"](conn, by_day).data
        referrals = catalog.REPORTS["referrals"](conn, by_day).data
        redemption = catalog.REPORTS["redemption"](conn, query).data
    assert program["members"]["joined"] == 6 and program["totals"]["issued"] == 1200 + 2550 + 600
    assert sum(day["clicks"] for day in referrals["periods"]) == 4
    assert program["participation"]["customers_seen"] == 7  # and Eve (E-1), A-1's Alice already counted
    assert redemption["revenue"]["amount"] == Decimal("122.00")
