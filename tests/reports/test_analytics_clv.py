"""``clv`` on the hand-checked club of ``tests/reports/analytics_data.py``, with a year of older orders added so
that churn can be observed, and segments and tiers written by hand (as the nightly jobs would leave them).

The range is the year 2025-11-01 .. 2026-10-31 (365 days: the purchase frequency is orders per member); churn's
base year is 2024-11-01 .. 2025-10-31. Every expected figure is worked out by hand below."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import insert

from bridge.reports import clv
from bridge.reports.base import Report
from bridge.storage import db
from bridge.storage import tables as t
from tests.integration.conftest import BOTH_BACKENDS
from tests.reports.analytics_data import club, query
from tests.support.client import SHOP, Bridge

D = Decimal
OLDER = [  # (order, member, paid_at, total)
    ("old-a", 1, datetime(2025, 3, 10, 12, tzinfo=UTC), "20.00"),  # A bought in the base year and since
    ("old-b", 2, datetime(2025, 5, 1, 12, tzinfo=UTC), "30.00"),  # so did B
    ("old-g", 7, datetime(2025, 2, 1, 12, tzinfo=UTC), "40.00"),  # G did, and never again: churned
    ("old-c", 3, datetime(2024, 10, 15, 12, tzinfo=UTC), "10.00"),  # before the base year: not in churn's base
]
SEGMENTS = {"champions": (1, 6), "at_risk": (2, 7)}
TIERS = {"gold": (1, 2), "silver": (3, 4, 5, 7)}


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def seeded(make_bridge: Callable[..., Bridge], segments: dict[str, tuple[int, ...]]) -> Bridge:
    """The club with its older orders, ``segments`` and ``TIERS`` written."""
    bridge = club(make_bridge, policy="open")
    program_id = bridge.rt.settings.program.id
    with db.write(bridge.rt.engine) as conn:
        conn.execute(
            insert(t.order_state),
            [
                {"program_id": program_id, "shop_id": SHOP, "order_id": order_id, "member_id": member,
                 "status": "completed", "total": total, "refunded_total": "0", "paid_at": paid_at, "cycle": 1,
                 "updated_at": paid_at}
                for order_id, member, paid_at, total in OLDER
            ],
        )  # fmt: skip
        conn.execute(
            insert(t.member_in_segment),
            [{"program_id": program_id, "segment_id": s, "member_id": m} for s, ms in segments.items() for m in ms],
        )
        conn.execute(
            insert(t.member_tier),
            [
                {"member_id": m, "program_id": program_id, "tier_id": tier, "source": "earned",
                 "since": datetime(2025, 1, 1, tzinfo=UTC), "updated_at": datetime(2025, 1, 1, tzinfo=UTC)}
                for tier, ms in TIERS.items()
                for m in ms
            ],
        )  # fmt: skip
    return bridge


def build(bridge: Bridge) -> Report:
    with db.read(bridge.rt.engine) as conn:
        return clv.build(conn, query(bridge, first=date(2025, 11, 1), last=date(2026, 10, 31)))


def test_clv_per_group_from_its_inputs(make_bridge: Callable[..., Bridge]) -> None:
    bridge = seeded(make_bridge, SEGMENTS)
    report = build(bridge)
    groups = {(g["kind"], g["group"]): g for g in report.data["groups"]}

    def inputs(kind: str, group: str) -> tuple[object, ...]:
        g = groups[(kind, group)]
        return tuple(g[k] for k in clv.COLUMNS if k not in ("kind", "group", "name", "currency"))

    # all: members 1-7 (H was created after the range); orders in the year: A 15+100+40+60 (4), B 30+70, C 20+25,
    # D 80+25, E 45.50, F 3 x 10 = 14 orders, 540.50; 14 / 7 = 2 a year; churn: A, B, G bought in the base year,
    # G not since: 1/3, lifetime 3 years; clv = 540.50 / 14 x 2 x 3 = 231.642857...
    assert inputs("all", "all") == (
        7, 14, D("540.50"), D("38.61"), D("2.00"), 3, 1, D("0.3333"), D("3.00"), D("231.64")
    )  # fmt: skip
    # champions A, F: 7 orders, 245.00; 3.5 a year; A in the base and still buying: no churn seen, no lifetime
    assert inputs("segment", "champions") == (2, 7, D("245.00"), D("35.00"), D("3.50"), 1, 0, D("0.0000"), None, None)
    # at_risk B, G: B's 2 orders, 100.00; 1 a year; B and G in the base, G churned: 1/2, 2 years; 50 x 1 x 2
    assert inputs("segment", "at_risk") == (
        2,
        2,
        D("100.00"),
        D("50.00"),
        D("1.00"),
        2,
        1,
        D("0.5000"),
        D("2.00"),
        D("100.00"),
    )
    # gold A, B: 6 orders, 315.00; 3 a year; both stayed
    assert inputs("tier", "gold") == (2, 6, D("315.00"), D("52.50"), D("3.00"), 2, 0, D("0.0000"), None, None)
    # silver C, D, E, G: 5 orders, 195.50; 1.25 a year; G alone in the base and gone: churn 1, 1 year;
    # 39.10 x 1.25 x 1 = 48.875
    assert inputs("tier", "silver") == (
        4,
        5,
        D("195.50"),
        D("39.10"),
        D("1.25"),
        1,
        1,
        D("1.0000"),
        D("1.00"),
        D("48.88"),
    )
    # a segment with nobody in it is listed, with nothing to say
    assert inputs("segment", "lost") == (0, 0, D("0.00"), None, None, 0, 0, None, None, None)
    assert str(groups[("segment", "lost")]["revenue"]) == "0.00"  # as the JSON and the CSV write it
    assert report.data["formula"] in report.method
    assert report.data["churn_window"] == {
        "base": ["2024-11-01T00:00:00+00:00", "2025-11-01T00:00:00+00:00"],
        "churned_if_no_order": ["2025-11-01T00:00:00+00:00", "2026-11-01T00:00:00+00:00"],
    }


def test_a_member_in_two_segments_counts_in_each_and_once_in_all(make_bridge: Callable[..., Bridge]) -> None:
    # A (a champion) is in at_risk too, as an owner's segment overlapping the RFM ones would put them
    bridge = seeded(make_bridge, {"champions": (1, 6), "at_risk": (1, 2, 7)})
    groups = {(g["kind"], g["group"]): g for g in build(bridge).data["groups"]}

    def inputs(kind: str, group: str) -> tuple[object, ...]:
        return tuple(groups[(kind, group)][k] for k in ("members", "orders", "revenue", "churn_base", "churned"))

    # at_risk A, B, G: A's 4 orders (215.00) and B's 2 (100.00); A, B, G in the base year, G gone since
    assert inputs("segment", "at_risk") == (3, 6, D("315.00"), 3, 1)
    assert inputs("segment", "champions") == (2, 7, D("245.00"), 1, 0)  # as before
    assert inputs("all", "all") == (7, 14, D("540.50"), 3, 1)  # A once
    assert inputs("tier", "gold") == (2, 6, D("315.00"), 2, 0)
