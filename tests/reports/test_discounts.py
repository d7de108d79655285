"""Discount given, one definition (``bridge/reports/discounts.py``): the ``redemption`` and ``roi`` reports agree.

On the hand-checked club of ``tests/reports/analytics_data.py``: A's 5.00-off coupon (issued 08-20) is used on
order a2 (paid 08-25: 50.00 - 10.00 refunded); F's 20 % coupon (issued 10-12) on order f3 (paid 10-22: 10.00),
valued 10.00 x 20 / 80 = 2.50. A discount is given when its carrying order is paid, whenever the coupon was
issued.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert

from bridge.reports import redemption, roi
from bridge.storage import db
from bridge.storage import tables as t
from tests.integration.conftest import BOTH_BACKENDS
from tests.reports.analytics_data import club, noon, query
from tests.support.client import SHOP, Bridge

D = Decimal


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def both(bridge: Bridge, first: date, last: date) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the redemption report's revenue and discount, the roi report's discount figures) over first..last."""
    q = query(bridge, first=first, last=last)
    with db.read(bridge.rt.engine) as conn:
        red = redemption.build(conn, q).data
        cost = roi.build(conn, q).data
    # the club's two shops use two currencies: the redemption report sums per currency (shop= picks shop1's rows)
    revenue, discount = red["revenue"], red["discount"]
    return (
        {
            "revenue": (revenue["by_currency"], revenue["orders"]),
            "discount": (discount["by_currency"], discount["percent_used"], discount["free_shipping_used"]),
        },
        {k: cost[k] for k in ("discount_cost", "used_coupons", "unvalued_coupons")},
    )


def test_both_reports_value_the_same_coupons_the_same_way(make_bridge: Callable[..., Bridge]) -> None:
    bridge = club(make_bridge, policy="open")
    red, cost = both(bridge, date(2026, 8, 1), date(2026, 10, 31))
    # a2 40.00 + f3 10.00; 5.00 + 2.50 (the percent coupon is valued in both reports now)
    assert red == {"revenue": ({"USD": D("50.00")}, 2), "discount": ({"USD": D("7.50")}, 1, 0)}
    assert cost == {"discount_cost": D("7.50"), "used_coupons": 2, "unvalued_coupons": 0}


def test_a_discount_belongs_to_the_range_its_order_was_paid_in(make_bridge: Callable[..., Bridge]) -> None:
    bridge = club(make_bridge, policy="open")
    # August: only A's coupon (F's order is paid in October)
    red, cost = both(bridge, date(2026, 8, 1), date(2026, 8, 31))
    assert red == {"revenue": ({"USD": D("40.00")}, 1), "discount": ({"USD": D("5.00")}, 0, 0)}
    assert cost == {"discount_cost": D("5.00"), "used_coupons": 1, "unvalued_coupons": 0}
    # October: F's only; September: none
    red, cost = both(bridge, date(2026, 10, 1), date(2026, 10, 31))
    assert red == {"revenue": ({"USD": D("10.00")}, 1), "discount": ({"USD": D("2.50")}, 1, 0)}
    assert cost == {"discount_cost": D("2.50"), "used_coupons": 1, "unvalued_coupons": 0}
    red, cost = both(bridge, date(2026, 9, 1), date(2026, 9, 30))
    assert red == {"revenue": ({}, 0), "discount": ({}, 0, 0)}
    assert cost == {"discount_cost": D("0.00"), "used_coupons": 0, "unvalued_coupons": 0}


def test_two_coupons_on_one_order_count_the_order_once(make_bridge: Callable[..., Bridge]) -> None:
    bridge = club(make_bridge, policy="open")
    with db.write(bridge.rt.engine) as conn:
        conn.execute(
            insert(t.redemption).values(
                program_id=bridge.rt.settings.program.id, shop_id=SHOP, member_id=1, request_key="second",
                reward_id="any", reward_type="variable", title="any", points=400, value="1.60", code="SECOND",
                state="used", coupon_body={}, order_id="a2", channel="widget", next_attempt_at=noon(8, 21),
                expires_at=noon(12, 31), created_at=noon(8, 21), updated_at=noon(8, 25), issued_at=noon(8, 21),
            )
        )  # fmt: skip
    red, cost = both(bridge, date(2026, 8, 1), date(2026, 10, 31))
    assert red == {"revenue": ({"USD": D("50.00")}, 2), "discount": ({"USD": D("9.10")}, 1, 0)}
    assert cost == {"discount_cost": D("9.10"), "used_coupons": 3, "unvalued_coupons": 0}
