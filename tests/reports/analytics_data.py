"""The fixed, hand-checked club the analytics reports' tests share (issue 18).

Times are UTC (the program's zone), every order at 12:00 so that days between orders are whole. The range the
tests ask for is August to October 2026 (end: 2026-11-01 00:00 UTC). Two shops: ``shop1`` in USD, ``shop2`` in
EUR. Member ids are fixed:

====  ==========  ==========  ==========================================================================
id    created     joined_at   paid orders (shop1, net of refunds)                 redemptions
====  ==========  ==========  ==========================================================================
1 A   07-10       07-10       07-20 15.00 (before the range); 08-05 100.00;        08-20 used, 5.00 off
                              08-25 50.00 - 10.00 refunded; 10-04 60.00;           (on the 08-25 order)
                              09-01 500.00 never paid; 09-09 1000.00 EUR (shop2)
2 B   08-03       08-03       08-03 30.00; 09-02 70.00                              08-10 expired
3 C   08-15       (never)     08-15 20.00; 08-29 20.00 status refunded; 09-10 25.00
4 D   09-05       09-06       09-05 80.00; 10-05 40.00 - 15.00 refunded            10-06 issued, 10 %
5 E   09-20       (never)     09-20 45.50
6 F   10-02       10-02       10-02, 10-12, 10-22 10.00 each                        10-12 used, 20 % (on 10-22)
7 G   10-20       10-20       none
8 H   11-02       11-02       11-03 99.00 (after the range)
--    a guest order without an e-mail (member_id NULL): 09-15 12.00
====  ==========  ==========  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert

from bridge.reports.base import ReportQuery
from bridge.storage import db
from bridge.storage import tables as t
from tests.support.client import SHOP, Bridge
from tests.support.clock import TEST_NOW

SHOP2 = "shop2"
FIRST, LAST = date(2026, 8, 1), date(2026, 10, 31)


def noon(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


MEMBERS: list[tuple[int, datetime, datetime | None]] = [
    (1, noon(7, 10), noon(7, 10)),
    (2, noon(8, 3), noon(8, 3)),
    (3, noon(8, 15), None),
    (4, noon(9, 5), noon(9, 6)),
    (5, noon(9, 20), None),
    (6, noon(10, 2), noon(10, 2)),
    (7, noon(10, 20), noon(10, 20)),
    (8, noon(11, 2), noon(11, 2)),
]
# (order id, shop, member, paid_at, status, total, refunded)
ORDERS: list[tuple[str, str, int | None, datetime | None, str, str, str]] = [
    ("a0", SHOP, 1, noon(7, 20), "completed", "15.00", "0"),
    ("a1", SHOP, 1, noon(8, 5), "completed", "100.00", "0"),
    ("a2", SHOP, 1, noon(8, 25), "completed", "50.00", "10.00"),
    ("a3", SHOP, 1, noon(10, 4), "completed", "60.00", "0"),
    ("a4", SHOP, 1, None, "pending", "500.00", "0"),
    ("a5", SHOP2, 1, noon(9, 9), "completed", "1000.00", "0"),
    ("b1", SHOP, 2, noon(8, 3), "completed", "30.00", "0"),
    ("b2", SHOP, 2, noon(9, 2), "processing", "70.00", "0"),
    ("c1", SHOP, 3, noon(8, 15), "completed", "20.00", "0"),
    ("c2", SHOP, 3, noon(8, 29), "refunded", "20.00", "20.00"),
    ("c3", SHOP, 3, noon(9, 10), "completed", "25.00", "0"),
    ("d1", SHOP, 4, noon(9, 5), "completed", "80.00", "0"),
    ("d2", SHOP, 4, noon(10, 5), "completed", "40.00", "15.00"),
    ("e1", SHOP, 5, noon(9, 20), "completed", "45.50", "0"),
    ("f1", SHOP, 6, noon(10, 2), "completed", "10.00", "0"),
    ("f2", SHOP, 6, noon(10, 12), "completed", "10.00", "0"),
    ("f3", SHOP, 6, noon(10, 22), "completed", "10.00", "0"),
    ("h1", SHOP, 8, noon(11, 3), "completed", "99.00", "0"),
    ("g0", SHOP, None, noon(9, 15), "completed", "12.00", "0"),
]
# (member, created_at, state, reward type, value, order carrying the code, closed_at)
REDEMPTIONS: list[tuple[int, datetime, str, str, str | None, str | None, datetime | None]] = [
    (1, noon(8, 20), "used", "fixed_cart", "5.00", "a2", noon(8, 25)),
    (2, noon(8, 10), "expired", "fixed_cart", "5.00", None, noon(9, 10)),
    (4, noon(10, 6), "issued", "percent", "10", None, None),
    (6, noon(10, 12), "used", "percent", "20", "f3", noon(10, 22)),
]

SHOPS = [
    {"id": SHOP, "platform": "woocommerce", "url": "http://127.0.0.1:8080", "consumer_key": "ck_test",
     "consumer_secret": "cs_test", "webhook_secret": "s1", "currency": "USD"},
    {"id": SHOP2, "platform": "woocommerce", "url": "http://127.0.0.1:8081", "consumer_key": "ck_test2",
     "consumer_secret": "cs_test2", "webhook_secret": "s2", "currency": "EUR"},
]  # fmt: skip


def club(make_bridge: Callable[..., Bridge], policy: str = "open", **program: Any) -> Bridge:
    """The club above, with membership ``policy``."""
    bridge = make_bridge(program={"timezone": "UTC", "membership": {"policy": policy}, **program}, shops=SHOPS)
    seed(bridge)
    return bridge


def seed(bridge: Bridge) -> None:
    program_id = bridge.rt.settings.program.id
    with db.write(bridge.rt.engine) as conn:
        conn.execute(
            insert(t.member),
            [
                {"id": i, "program_id": program_id, "email": f"m{i}@example.com", "email_key": f"m{i}@example.com",
                 "first_shop_id": SHOP, "created_at": created}
                for i, created, _ in MEMBERS
            ],
        )  # fmt: skip
        conn.execute(
            insert(t.member_profile),
            [
                {"member_id": i, "program_id": program_id, "joined_at": joined, "updated_at": created}
                for i, created, joined in MEMBERS
            ],
        )
        conn.execute(
            insert(t.order_state),
            [
                {"program_id": program_id, "shop_id": shop, "order_id": order_id, "member_id": member,
                 "status": status, "total": total, "refunded_total": refunded, "paid_at": paid_at,
                 "cycle": 1, "updated_at": paid_at or TEST_NOW}
                for order_id, shop, member, paid_at, status, total, refunded in ORDERS
            ],
        )  # fmt: skip
        conn.execute(
            insert(t.redemption),
            [
                {"program_id": program_id, "shop_id": SHOP, "member_id": member, "request_key": f"r{n}",
                 "reward_id": kind, "reward_type": kind, "title": kind, "points": 500, "value": value,
                 "code": f"CODE{n}", "state": state, "coupon_body": {}, "order_id": order_id, "channel": "widget",
                 "next_attempt_at": created, "expires_at": noon(12, 31), "created_at": created,
                 "updated_at": closed or created, "issued_at": created, "closed_at": closed}
                for n, (member, created, state, kind, value, order_id, closed) in enumerate(REDEMPTIONS)
            ],
        )  # fmt: skip


def query(bridge: Bridge, shop_id: str | None = SHOP, first: date = FIRST, last: date = LAST) -> ReportQuery:
    settings = bridge.rt.settings
    return ReportQuery(
        program=settings.program,
        shops=settings.shops,
        first=first,
        last=last,
        interval="month",
        now=TEST_NOW,
        shop_id=shop_id,
    )
