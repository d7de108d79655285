"""``members_vs_others`` on the hand-checked club of ``tests/reports/analytics_data.py`` (SQLite and PostgreSQL).

Every expected figure below is worked out by hand from the table in that module's docstring."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from bridge.errors import ShopRequired
from bridge.reports import members_vs_others
from bridge.reports.base import Report
from bridge.storage import db
from tests.integration.conftest import BOTH_BACKENDS
from tests.reports.analytics_data import SHOP2, club, query
from tests.support.client import Bridge


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(bridge: Bridge, shop_id: str | None = "shop1") -> Report:
    with db.read(bridge.rt.engine) as conn:
        return members_vs_others.build(conn, query(bridge, shop_id))


def test_a_closed_club_compares_members_with_customers_who_never_got_in(make_bridge: Callable[..., Bridge]) -> None:
    report = run(club(make_bridge, policy="closed"))
    assert report.data["comparison"] == "members_vs_others"
    assert report.data["currency"] == "USD"
    assert report.data["unidentified_orders"] == 1
    # members A, B, D, F (G never ordered, H got in after the range): 3 + 2 + 2 + 3 orders
    # A 100 + 40 + 60, B 30 + 70, D 80 + 25, F 3 x 10 = 435.00; gaps 2+1+1+2 over 60+30+30+20 days
    assert report.data["groups"]["members"] == {
        "customers": 4,
        "orders": 10,
        "revenue": Decimal("435.00"),
        "average_order_value": Decimal("43.50"),
        "orders_per_customer": Decimal("2.50"),
        "repeat_customers": 4,
        "repeat_rate": Decimal("1.0000"),
        "gaps": 6,
        "mean_days_between_orders": Decimal("23.33"),
    }
    # others: C (20 + 25; the refunded order does not count), E 45.50, and the guest order 12.00
    assert report.data["groups"]["others"] == {
        "customers": 2,
        "orders": 4,
        "revenue": Decimal("102.50"),
        "average_order_value": Decimal("25.63"),  # 25.625, half up
        "orders_per_customer": Decimal("1.50"),  # the guest order belongs to no known customer
        "repeat_customers": 1,
        "repeat_rate": Decimal("0.5000"),
        "gaps": 1,
        "mean_days_between_orders": Decimal("26.00"),
    }
    (table,) = report.tables
    assert table.columns[:4] == ("group", "customers", "orders", "revenue")
    assert [row[:4] for row in table.rows] == [
        ("members", 4, 10, Decimal("435.00")),
        ("others", 2, 4, Decimal("102.50")),
    ]


def test_an_open_club_compares_engaged_with_not_engaged_members(make_bridge: Callable[..., Bridge]) -> None:
    report = run(club(make_bridge, policy="open"))
    assert report.data["comparison"] == "engaged_vs_not_engaged"
    groups = report.data["groups"]
    # engaged: A (used), D (issued), F (used); B's coupon expired: not engaged
    assert groups["engaged"] == {
        "customers": 3,
        "orders": 8,
        "revenue": Decimal("335.00"),
        "average_order_value": Decimal("41.88"),
        "orders_per_customer": Decimal("2.67"),
        "repeat_customers": 3,
        "repeat_rate": Decimal("1.0000"),
        "gaps": 5,
        "mean_days_between_orders": Decimal("22.00"),
    }
    assert groups["not_engaged"] == {
        "customers": 3,
        "orders": 5,
        "revenue": Decimal("190.50"),
        "average_order_value": Decimal("38.10"),
        "orders_per_customer": Decimal("1.67"),
        "repeat_customers": 2,
        "repeat_rate": Decimal("0.6667"),
        "gaps": 2,
        "mean_days_between_orders": Decimal("28.00"),
    }
    assert report.data["unidentified_orders"] == 1  # left out: nobody knows whose it is


def test_money_of_two_currencies_is_never_added_up(make_bridge: Callable[..., Bridge]) -> None:
    bridge = club(make_bridge, policy="closed")
    with pytest.raises(ShopRequired):
        run(bridge, shop_id=None)
    eur = run(bridge, shop_id=SHOP2).data
    assert eur["currency"] == "EUR"
    assert eur["groups"]["members"]["revenue"] == Decimal("1000.00")
    assert eur["groups"]["others"]["orders"] == 0
    assert eur["groups"]["others"]["average_order_value"] is None  # no order: no average, not 0


def test_a_range_without_orders_gives_counts_of_zero(make_bridge: Callable[..., Bridge]) -> None:
    bridge = club(make_bridge, policy="closed")
    with db.read(bridge.rt.engine) as conn:
        report = members_vs_others.build(conn, query(bridge, first=date(2026, 6, 1), last=date(2026, 6, 30)))
    assert report.data["groups"]["members"]["customers"] == 0
    assert report.data["groups"]["members"]["repeat_rate"] is None
    assert report.data["groups"]["members"]["mean_days_between_orders"] is None
