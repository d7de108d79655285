"""``roi`` on the hand-checked club of ``tests/reports/analytics_data.py`` (August to October 2026, open club).

Worked out by hand: join cohorts (member.created_at) July A; August B, C; September D, E; October F, G (H joined
after the range). Engaged (an issued or used redemption): A, D, F. Revenue in the range: A 200.00, B 100.00,
C 45.00, D 105.00, E 45.50, F 30.00, G 0.
- July: A engaged, nobody to compare with; August: nobody engaged: no comparison either.
- September: (105.00 - 45.50) x 1 = 59.50; October: (30.00 - 0) x 1 = 30.00. Incremental: 89.50.
- Coupons used in the range: A's 5.00 off; F's 20 % on an order of 10.00: 10.00 x 20 / 80 = 2.50. Cost: 7.50.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import insert

from bridge.reports import roi
from bridge.storage import db
from bridge.storage import tables as t
from tests.integration.conftest import BOTH_BACKENDS
from tests.reports.analytics_data import club, noon, query
from tests.support.client import SHOP, Bridge

D = Decimal


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_incremental_revenue_of_engaged_members_minus_discounts(make_bridge: Callable[..., Bridge]) -> None:
    bridge = club(make_bridge, policy="open")
    with db.read(bridge.rt.engine) as conn:
        report = roi.build(conn, query(bridge))
    data = report.data
    assert (data["incremental_revenue"], data["discount_cost"], data["net"]) == (D("89.50"), D("7.50"), D("82.00"))
    assert data["return_on_discount"] == D("10.9333")  # 82.00 / 7.50
    assert (data["engaged_members"], data["engaged_compared"]) == (3, 2)
    assert (data["used_coupons"], data["unvalued_coupons"]) == (2, 0)
    assert [(c["cohort"], c["engaged"], c["not_engaged"], c["incremental"]) for c in data["cohorts"]] == [
        ("2026-07", 1, 0, None),
        ("2026-08", 0, 2, None),
        ("2026-09", 1, 1, D("59.50")),
        ("2026-10", 1, 1, D("30.00")),
    ]
    (table,) = report.tables
    assert table.rows[2] == ("2026-09", 1, D("105.00"), 1, D("45.50"), D("59.50"), "USD")
    assert "estimate" in report.method.lower()


def test_a_free_shipping_coupon_is_counted_but_has_no_worth(make_bridge: Callable[..., Bridge]) -> None:
    bridge = club(make_bridge, policy="open")
    with db.write(bridge.rt.engine) as conn:
        conn.execute(
            insert(t.redemption).values(
                program_id=bridge.rt.settings.program.id, shop_id=SHOP, member_id=2, request_key="ship",
                reward_id="ship", reward_type="free_shipping", title="ship", points=300, value=None, code="SHIP",
                state="used", coupon_body={}, order_id="b2", channel="widget", next_attempt_at=noon(8, 30),
                expires_at=noon(12, 31), created_at=noon(8, 30), updated_at=noon(9, 2), closed_at=noon(9, 2),
            )
        )  # fmt: skip
    with db.read(bridge.rt.engine) as conn:
        data = roi.build(conn, query(bridge)).data
    assert (data["used_coupons"], data["unvalued_coupons"], data["discount_cost"]) == (3, 1, D("7.50"))
    # B is engaged now: August compares B (100.00) with C (45.00): +55.00
    assert data["incremental_revenue"] == D("144.50")


def test_an_earlier_cohort_gathers_members_older_than_the_window(make_bridge: Callable[..., Bridge]) -> None:
    bridge = club(make_bridge, policy="open")
    with db.read(bridge.rt.engine) as conn:
        data = roi.build(conn, query(bridge, first=date(2029, 9, 1), last=date(2029, 9, 30))).data
    # 2029-09 and the 35 months before it reach back to 2026-10: A to E joined earlier
    assert [(c["cohort"], c["engaged"], c["not_engaged"]) for c in data["cohorts"]] == [
        ("earlier", 2, 3),  # A, D / B, C, E
        ("2026-10", 1, 1),  # F / G
        ("2026-11", 0, 1),  # H
    ]
