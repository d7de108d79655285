"""Every figure of the program, liability, redemption and referrals reports, on a small club whose rows are listed
in tests/reports/dataset.py, against values worked out by hand (the sums are written out next to them).

The same figures come out whether the rollup job has run (up to some day of the range, or past it) or not: the
reports read the rollups before ``rolled_until`` and the raw rows after.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete

from bridge.reports import catalog
from bridge.reports.base import Report
from bridge.storage import db
from bridge.storage import tables as t
from tests.reports import dataset
from tests.support.client import Bridge
from tests.support.clock import TEST_NOW

MID_RANGE = datetime(2026, 9, 20, 3, tzinfo=UTC)  # the job ran once in September (rolls up to 09-19)


@pytest.fixture
def club(make_bridge: Callable[..., Bridge]) -> Bridge:
    bridge = make_bridge(program=dataset.PROGRAM)
    dataset.build(bridge, roll_up_at=(MID_RANGE,))
    dataset.at("11-26", 12)  # TEST_NOW
    return bridge


def report(bridge: Bridge, name: str, **given: Any) -> Report:
    query = catalog.parse_query(
        bridge.rt.settings,
        TEST_NOW,
        first=given.get("first", "2026-08-01"),
        last=given.get("last", "2026-10-31"),
        interval=given.get("interval", "month"),
        shop=given.get("shop"),
    )
    with db.read(bridge.rt.engine) as conn:
        return catalog.REPORTS[name](conn, query)


def test_program(club: Bridge) -> None:
    data = report(club, "program").data
    # created before 11-01: Alice, Bob, Cara, Finn, Dan (Eve joined 11-05); in the range: all but Alice
    assert data["members"] == {"total": 5, "joined": 4, "active_30_days": 2, "active_90_days": 6}
    # paid in the range and not undone: A-2 (Alice), B-1 B-2 B-3 (Bob), C-1 (Cara), F-1 (Finn), G-1, G-2 (guests);
    # not X-1 (cancelled), F-2 (refunded), A-1 (July), E-1 (November). 4 members + 2 guest orders = 6 customers
    assert data["participation"] == {"members_ordering": 4, "customers_seen": 6, "rate": Decimal("0.6667")}
    # redeemed before 11-01 (r5 failed does not count, Cara has r2 anyway): Alice, Bob, Cara of 5 members
    assert data["engagement"] == {"members_redeemed": 3, "members": 5, "rate": Decimal("0.6000")}
    assert data["periods"] == [
        # Aug: issued 500 + 300; released Alice's 200; redeemed r1 500; adjusted +50
        {
            "period": "2026-08-01",
            "joined": 1,
            "issued": 800,
            "released": 200,
            "redeemed": 500,
            "expired": 0,
            "reversed": 0,
            "adjusted": 50,
        },
        # Sep: issued Cara 1000 + Finn 100 + Alice's referral 250; redeemed r2 400; expired 300; reversed 100
        {
            "period": "2026-09-01",
            "joined": 2,
            "issued": 1350,
            "released": 0,
            "redeemed": 400,
            "expired": 300,
            "reversed": 100,
            "adjusted": 0,
        },
        # Oct: issued Dan 400; released Bob's 200; redeemed r3 300 - 300 back + r4 500 + r7 300 + r5 100 - 100 back
        {
            "period": "2026-10-01",
            "joined": 1,
            "issued": 400,
            "released": 200,
            "redeemed": 800,
            "expired": 100,
            "reversed": 0,
            "adjusted": -40,
        },
    ]
    assert data["totals"] == {
        "issued": 2550,
        "released": 400,
        "redeemed": 1700,
        "expired": 400,
        "reversed": 100,
        "adjusted": 10,
    }
    assert data["redemption_rate"] == Decimal("0.6667")  # 1700 / 2550


def test_liability(club: Bridge) -> None:
    data = report(club, "liability").data
    # at 11-01: Alice 1000 + 200 - 500 - 300 + 250 = 650; Bob 500 + 50 + 200 - 300 + 300 - 300 - 40 = 410;
    # Cara 1000 - 400 - 500 - 100 + 100 - 100 = 0; Finn 100; Dan 400 pending
    assert data["points"] == {"available": 1160, "pending": 400}
    # the variable reward's 0.004 a point is cheaper than five-off's 0.01: 1560 x 0.004, 1160 x 0.004, 400 x 0.004
    assert data["point_value"] == Decimal("0.004")
    assert data["value"] == {
        "currency": "USD",
        "amount": Decimal("6.24"),
        "available": Decimal("4.64"),
        "pending": Decimal("1.60"),
    }
    assert data["journal"] == [
        # opening: Alice's July 1000 + 200
        {
            "period": "2026-08-01",
            "opening": 1200,
            "issued": 800,
            "adjusted": 50,
            "reversed": 0,
            "redeemed": 500,
            "expired": 0,
            "closing": 1550,
        },
        {
            "period": "2026-09-01",
            "opening": 1550,
            "issued": 1350,
            "adjusted": 0,
            "reversed": 100,
            "redeemed": 400,
            "expired": 300,
            "closing": 2100,
        },
        {
            "period": "2026-10-01",
            "opening": 2100,
            "issued": 400,
            "adjusted": -40,
            "reversed": 0,
            "redeemed": 800,
            "expired": 100,
            "closing": 1560,
        },
    ]
    # the year up to 10-31: expired 300 + 100, redeemed 1700: 400 / 2100 = 0.1905; 0.1905 x 1160 = 220.98
    breakage = data["expected_breakage"]
    assert (breakage["rate"], breakage["points"], breakage["expired"], breakage["redeemed"]) == (
        Decimal("0.1905"),
        220,
        400,
        1700,
    )
    assert "estimate" in report(club, "liability").method


def test_redemption(club: Bridge) -> None:
    data = report(club, "redemption").data
    assert data["redemption_rate"] == Decimal("0.6667")
    assert data["rewards"] == [  # created in the range, r5 (failed) and r6 (November) left out
        {"reward_id": "five-off", "title": "5.00 off", "count": 2, "points": 1000},  # r1, r4
        {"reward_id": "any-amount", "title": "Points as money", "count": 1, "points": 400},  # r2
        {"reward_id": "ship", "title": dataset.PERSIAN_SHIPPING, "count": 1, "points": 300},  # r7
        {"reward_id": "ten-pct", "title": "10% off", "count": 1, "points": 300},  # r3
    ]
    # issued in the range: r1 r2 r7 used, r3 expired, r4 open
    assert data["coupons"] == {
        "issued": 5,
        "used": 3,
        "expired": 1,
        "cancelled": 0,
        "open": 1,
        "use_rate": Decimal("0.6000"),
    }
    # A-2 60.00 + C-1 40.00 + B-3 22.00
    assert data["revenue"] == {"currency": "USD", "amount": Decimal("122.00"), "orders": 3}
    # r1 5.00 + r2 1.60; r7 is free shipping (counted, not valued)
    assert data["discount"] == {
        "currency": "USD",
        "amount": Decimal("6.60"),
        "percent_used": 0,
        "free_shipping_used": 1,
    }


def test_referrals(club: Bridge) -> None:
    data = report(club, "referrals").data
    # created in the range: ref1 qualified, ref2 invited, ref3 rejected, ref4 failed (ref5 is July's)
    assert data["by_state"] == {"failed": 1, "invited": 1, "qualified": 1, "rejected": 1}
    assert data["funnel"] == {
        "clicks": 3,
        "claims": 3,
        "ordered": 1,
        "qualified": 1,
        "rejected": 1,
        "conversion": Decimal("0.3333"),
    }
    assert data["rejections"] == {"self": 1}
    # referred members Finn (ref1) and Cara (ref5): F-1 25.00 + C-1 40.00 (F-2 refunded, X-1 cancelled)
    assert data["referred_revenue"] == {"currency": "USD", "amount": Decimal("65.00"), "orders": 2}
    assert data["qualified_first_orders"] == {"currency": "USD", "amount": Decimal("25.00"), "orders": 1}
    assert data["periods"] == [
        {
            "period": "2026-08-01",
            "clicks": 0,
            "claims": 0,
            "ordered": 0,
            "qualified": 0,
            "referred_revenue": Decimal("0.00"),
        },
        {
            "period": "2026-09-01",
            "clicks": 2,
            "claims": 1,
            "ordered": 1,
            "qualified": 0,
            "referred_revenue": Decimal("65.00"),
        },
        {
            "period": "2026-10-01",
            "clicks": 1,
            "claims": 2,
            "ordered": 0,
            "qualified": 1,
            "referred_revenue": Decimal("0.00"),
        },
    ]


@pytest.mark.parametrize("rollups", ["none", "all"])
def test_the_same_figures_without_rollups_or_with_every_day_rolled_up(club: Bridge, rollups: str) -> None:
    before = {name: report(club, name).data for name in ("program", "liability", "redemption", "referrals")}
    if rollups == "none":
        with db.write(club.rt.engine) as conn:
            conn.execute(delete(t.report_rollup_state))
    else:
        from bridge.reports.jobs import run_rollup

        run_rollup(club.rt, TEST_NOW)
    after = {name: report(club, name).data for name in before}
    assert after == before


def test_one_shop_leaves_out_what_belongs_to_no_shop(club: Bridge) -> None:
    data = report(club, "program", shop="shop1").data
    assert data["totals"]["adjusted"] == 0  # Bob's two adjustments carry no shop
    assert data["totals"]["issued"] == 2550
    journal = report(club, "liability", shop="shop1").data["journal"]
    assert journal[-1]["closing"] == 1560 - 10


def test_weeks_and_days_cut_the_same_range(club: Bridge) -> None:
    weeks = report(club, "program", interval="week").data["periods"]
    assert weeks[0]["period"] == "2026-08-01"  # clipped to the range: the ISO week began on Monday 07-27
    assert weeks[1]["period"] == "2026-08-03"
    assert sum(w["issued"] for w in weeks) == 2550
    # Bob 08-05, Cara 09-12, Finn 09-18, Dan 10-20: the weeks from Monday 08-03, 09-07, 09-14, 10-19
    assert [(w["period"], w["joined"]) for w in weeks if w["joined"]] == [
        ("2026-08-03", 1),
        ("2026-09-07", 1),
        ("2026-09-14", 1),
        ("2026-10-19", 1),
    ]
    clicks = report(club, "referrals", interval="day").data["periods"]
    assert len(clicks) == 92
    assert [(d["period"], d["clicks"]) for d in clicks if d["clicks"]] == [("2026-09-17", 2), ("2026-10-02", 1)]
    days = report(club, "liability", interval="day", first="2026-10-19", last="2026-10-21").data["journal"]
    # October's opening 2100 - r3 300 - r4 500 - r7 300 = 1000 on the 19th
    assert [(d["period"], d["opening"], d["closing"]) for d in days] == [
        ("2026-10-19", 1000, 1000),
        ("2026-10-20", 1000, 1000 + 300 + 400),  # r3's 300 given back, Dan's 400 pending
        ("2026-10-21", 1700, 1700),  # r5: 100 out and back
    ]


def test_participation_in_an_invite_only_program_counts_the_members_let_in(make_bridge: Callable[..., Bridge]) -> None:
    from bridge.storage import life

    bridge = make_bridge(program={**dataset.PROGRAM, "membership": {"policy": "invite_only"}})
    club = dataset.build(bridge)
    with db.write(bridge.rt.engine) as conn:
        life.update_profile(conn, "club", club.ids["alice"], TEST_NOW, joined_at=datetime(2026, 7, 10, tzinfo=UTC))
        life.update_profile(conn, "club", club.ids["bob"], TEST_NOW, joined_at=datetime(2026, 10, 31, tzinfo=UTC))
        # let in after the range: a customer, not a member, in it
        life.update_profile(conn, "club", club.ids["cara"], TEST_NOW, joined_at=datetime(2026, 11, 2, tzinfo=UTC))
    dataset.at("11-26", 12)
    data = report(bridge, "program").data
    # of the 6 customers seen (4 members' accounts + 2 guest orders), Alice and Bob were in the club
    assert data["participation"] == {"members_ordering": 2, "customers_seen": 6, "rate": Decimal("0.3333")}
