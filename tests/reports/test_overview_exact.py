"""The Overview's figures equal a recount from the raw tables, whatever the rollups hold.

A mix of earn (webhooks and awards), hold and release, refund reversal, redeem and give-back, adjustment and
expiry is written through the real services over three months, the rollup job runs in between (as the worker
would), and every figure is compared with a count written here from the raw rows, independently of the code
under test: with rollups, with none, and after the program's time zone changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from bridge.ledger import service as ledger
from bridge.ledger.jobs import run_expiry, run_release
from bridge.ledger.model import EntryKind, EntryState, NewEntry
from bridge.members import service as members
from bridge.reports import overview as report
from bridge.reports import rollup
from bridge.reports.jobs import run_rollup
from bridge.storage import clock, db
from bridge.storage import tables as t
from tests.integration.conftest import BOTH_BACKENDS
from tests.support.client import SHOP, Bridge
from tests.support.clock import TEST_NOW

TEHRAN = "Asia/Tehran"  # +03:30: local days do not start on a UTC hour
REWARDS = [
    {"id": "five-off", "title": "5.00 off", "type": "fixed_cart", "points": 500, "value": "5.00"},
    {
        "id": "any-amount",
        "title": "Points as money",
        "type": "variable",
        "step": 100,
        "min_points": 100,
        "max_points": 2000,
        "currency_per_point": "0.004",
    },
    {"id": "ship", "title": "Free shipping", "type": "free_shipping", "points": 300},
]
COMPLETED_AT = datetime(2026, 11, 23, 22, 32, 58, tzinfo=UTC)  # order 12's fixture


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass(frozen=True)
class Fixed:
    """A clock standing at ``moment``: the ledger dates what it writes by it."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment


def at(moment: datetime) -> datetime:
    clock.install(Fixed(moment))  # the autouse clock fixture puts the test clock back afterwards
    return moment


def club(make_bridge: Callable[..., Bridge], timezone: str = TEHRAN) -> Bridge:
    return make_bridge(
        program={
            "timezone": timezone,
            "earn": {
                "release": "after_hold",
                "hold_days": 14,
                "expiry": {"mode": "lot", "months": 1},
            },
            "rewards": REWARDS,
        }
    )


def workload(bridge: Bridge) -> None:
    """Three months of a small club, through the services; the rollup job runs twice on the way."""
    rt = bridge.rt
    at(TEST_NOW - timedelta(days=80, hours=3))
    for name in ("customer.created", "order.updated.processing-paid", "order.updated.completed"):
        bridge.deliver_ok(name)
    bridge.drain()  # Carol: 50 sign-up points available, 35 pending in the hold

    for i in range(8):
        now = at(TEST_NOW - timedelta(days=75 - 9 * i, hours=i * 7 + 1))
        with db.write(rt.engine) as conn:
            member_id = members.resolve(conn, "club", SHOP, f"c{i}", f"m{i}@example.com")
            assert member_id is not None
            ledger.post(conn, NewEntry("club", member_id, 200 + 10 * i, EntryKind.EARN, f"t:earn:{i}", shop_id=SHOP))
            spend, _ = ledger.spend(
                conn,
                program_id="club",
                member_id=member_id,
                points=100,
                idempotency_key=f"t:spend:{i}",
                cause_type="redemption",
                cause_id=str(i),
                shop_id=SHOP,
            )
            if i % 3 == 0:  # the coupon expired unused: the points come back
                ledger.return_spent(
                    conn, spend=spend, points=100, idempotency_key=f"t:back:{i}", cause_type="t", cause_id=str(i)
                )
            ledger.adjust(
                conn,
                program_id="club",
                member_id=member_id,
                points=5 - 2 * i,
                reason="fix",
                actor="t",
                request_key=f"adj{i}",
            )
            if i % 2:
                ledger.post(
                    conn,
                    NewEntry(
                        "club", member_id, 40, EntryKind.EARN, f"t:hold:{i}", shop_id=SHOP, state=EntryState.PENDING
                    ),
                )
        if i == 4:
            run_rollup(rt, now)

    at(TEST_NOW - timedelta(days=6))
    assert run_expiry(rt, TEST_NOW - timedelta(days=6))["expired"] > 0
    at(TEST_NOW - timedelta(days=2, hours=5))
    assert run_release(rt, COMPLETED_AT + timedelta(days=15))["orders"] == 1
    run_rollup(rt, TEST_NOW - timedelta(days=1))
    at(TEST_NOW - timedelta(hours=30))
    bridge.deliver_ok("order.updated.partial-refund")
    bridge.drain()  # a refund after the release: reversed from available points
    at(TEST_NOW - timedelta(hours=1))
    with db.write(rt.engine) as conn:  # today: in no rollup yet
        member_id = members.resolve(conn, "club", SHOP, "late", "late@example.com")
        assert member_id is not None
        ledger.post(conn, NewEntry("club", member_id, 70, EntryKind.REFERRAL, "t:late", shop_id=SHOP))


def recount(bridge: Bridge, timezone: str, now: datetime) -> dict[str, Any]:
    """Every figure from the raw rows, by the definitions in bridge/reports/overview.py, written out again."""
    zone = ZoneInfo(timezone)
    e, m = t.ledger_entry.c, t.member.c
    with db.read(bridge.rt.engine) as conn:
        entries = conn.execute(select(e.member_id, e.kind, e.state, e.points, e.created_at)).all()
        joined_at = list(conn.scalars(select(m.created_at)))
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=n) for n in range(89, -1, -1)]
    period = set(days[-30:])
    by_day: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    flow: dict[str, int] = defaultdict(int)
    states: dict[str, int] = defaultdict(int)
    active = set()
    for member_id, kind, state, points, created_at in entries:
        day = created_at.astimezone(zone).date()
        states[state] += points
        if kind in ("earn", "referral"):
            by_day[day]["issued"] += points
        if kind == "spend":
            by_day[day]["redeemed"] -= points
        if day in period:
            flow[kind] += points
            if kind == "release" and points > 0:
                flow["released"] += points
        earned = kind in ("earn", "referral") and points > 0
        if created_at >= now - timedelta(days=90) and (earned or (kind == "spend" and points < 0)):
            active.add(member_id)
    for created_at in joined_at:
        by_day[created_at.astimezone(zone).date()]["joined"] += 1
    return {
        "members": len(joined_at),
        "active_members": len(active),
        "flow": report.Flow(
            issued=flow["earn"] + flow["referral"],
            reversed=-flow["reverse"],
            adjusted=flow["adjust"],
            redeemed=-flow["spend"],
            expired=-flow["expire"],
            released=flow["released"],
        ),
        "available": states["available"],
        "pending": states["pending"],
        "series": [(d, by_day[d]["issued"], by_day[d]["redeemed"], by_day[d]["joined"]) for d in days],
    }


def figures(bridge: Bridge, now: datetime) -> report.Overview:
    program = bridge.rt.settings.program
    with db.read(bridge.rt.engine) as conn:
        return report.overview(
            conn,
            program_id=program.id,
            timezone=program.earning.timezone,
            rewards=program.rewards,
            shops=bridge.rt.settings.shops,
            now=now,
        )


def assert_exact(found: report.Overview, expected: dict[str, Any]) -> None:
    assert found.members == expected["members"]
    assert found.active_members == expected["active_members"]
    assert found.flow == expected["flow"]
    assert (found.liability.available, found.liability.pending) == (expected["available"], expected["pending"])
    assert [(d.day, d.issued, d.redeemed, d.joined) for d in found.series] == expected["series"]


def test_every_figure_equals_a_recount_of_the_raw_rows(make_bridge: Callable[..., Bridge]) -> None:
    bridge = club(make_bridge)
    workload(bridge)
    now = at(TEST_NOW)
    expected = recount(bridge, TEHRAN, now)
    # the mix really has every kind of movement in the period, and activity outside the 90 days does not count
    flow = expected["flow"]
    assert flow.issued and flow.redeemed and flow.expired and flow.reversed and flow.adjusted and flow.released
    assert expected["pending"] > 0

    found = figures(bridge, now)
    assert found.rolled_until is not None and found.rolled_until < now - timedelta(hours=24)  # rollups + raw tail
    assert_exact(found, expected)

    run_rollup(bridge.rt, now)  # rolls up to today; only today stays raw
    found = figures(bridge, now)
    assert found.rolled_until is not None and now - found.rolled_until < timedelta(hours=24)
    assert_exact(found, expected)
    # the redemption rate is redeemed / issued over the same 30 days
    assert found.redemption_rate == (Decimal(flow.redeemed) / Decimal(flow.issued)).quantize(Decimal("0.0001"))

    with db.write(bridge.rt.engine) as conn:  # no rollup at all: raw rows only, the same figures
        conn.execute(delete(t.report_rollup_state))
    found = figures(bridge, now)
    assert found.rolled_until is None
    assert_exact(found, expected)


def test_a_new_time_zone_rebuilds_the_days(make_bridge: Callable[..., Bridge], tmp_path: Any) -> None:
    bridge = club(make_bridge)
    workload(bridge)
    now = at(TEST_NOW)
    run_rollup(bridge.rt, now)
    utc_bridge = club(make_bridge, timezone="UTC")  # the same database, the owner moved the program to UTC
    found = figures(utc_bridge, now)
    assert found.rolled_until is None  # Tehran's days are not UTC's: raw rows until the job runs
    assert_exact(found, recount(utc_bridge, "UTC", now))
    run_rollup(utc_bridge.rt, now)
    found = figures(utc_bridge, now)
    assert found.rolled_until == datetime(2026, 11, 26, tzinfo=UTC)
    assert_exact(found, recount(utc_bridge, "UTC", now))


def test_liability_is_valued_at_the_cheapest_point_a_reward_gives(make_bridge: Callable[..., Bridge]) -> None:
    bridge = club(make_bridge)
    workload(bridge)
    now = at(TEST_NOW)
    liability = figures(bridge, now).liability
    # 5.00 for 500 points is 0.01 a point; the variable reward gives 0.004; free shipping has no fixed worth
    assert liability.point_value == Decimal("0.004")
    assert liability.currency == "USD"
    cents = Decimal("0.01")
    assert liability.available_value == (Decimal(liability.available) * Decimal("0.004")).quantize(cents, ROUND_DOWN)
    assert liability.pending_value == (Decimal(liability.pending) * Decimal("0.004")).quantize(cents, ROUND_DOWN)


def test_a_first_build_on_a_budget_goes_on_over_several_runs(make_bridge: Callable[..., Bridge]) -> None:
    bridge = club(make_bridge)
    workload(bridge)
    now = at(TEST_NOW)
    with db.write(bridge.rt.engine) as conn:  # as after an upgrade: a ledger and no rollup yet
        conn.execute(delete(t.report_rollup_state))
        conn.execute(delete(t.report_daily_points))
        conn.execute(delete(t.report_daily_members))
        conn.execute(delete(t.report_member_activity))
    expected = recount(bridge, TEHRAN, now)
    program = bridge.rt.settings.program
    runs, derived = 0, []
    while True:
        derived.append(rollup.roll_up(bridge.rt.engine, program.id, TEHRAN, now, budget_seconds=0))
        runs += 1
        assert_exact(figures(bridge, now), expected)  # exact after every partial run
        if figures(bridge, now).rolled_until == datetime(2026, 11, 25, 20, 30, tzinfo=UTC):  # Tehran's midnight
            break
        assert runs < 10
    assert runs == 3 and derived[0] == rollup.CHUNK_DAYS  # 81 days: one chunk of 31 days per run
