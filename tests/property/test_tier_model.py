"""Tiers against a small independent model: random sequences of orders, refunds, adjustments and reviews, each at
its own moment, give the bridge and the model the same tier history, the same entry bonuses and the same tier.

The bridge runs its real paths: the order is applied and observed as a delivery is (``apply_order`` then the order
observers, in one transaction), the adjustment goes through the admin API, the review is the nightly job's own
function. The model is a few lines of plain Python over a list of (moment, points) with the rules of
``bridge/tiers/service.py``'s docstring: up at once with each level's bonus once, down at most one level per year
end after the grace, keeping the better of the ended and current year, a member upgraded this year never reviewed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bridge.connectors.base import LineItem, Refund, ShopOrder
from bridge.inbox.dispatch import observe_order
from bridge.orders.service import apply_order
from bridge.runtime import use_runtime
from bridge.storage import db
from bridge.storage import members as member_store
from bridge.storage import tables as t
from bridge.tiers.jobs import run_review
from tests.integration.conftest import BOTH_BACKENDS
from tests.support.client import SHOP, Bridge
from tests.support.clock import TEST_NOW
from tests.tiers.conftest import clock_at

GRACE_DAYS = 10
LEVELS = [  # (id, threshold, multiplier, entry points)
    ("silver", 50, 1, 5),
    ("gold", 150, 2, 20),
    ("platinum", 400, 1, 0),
]
COUNTER = itertools.count()

Event = tuple[str, int, int]  # (kind, argument, hours after the previous event)


def events() -> st.SearchStrategy[list[Event]]:
    step = st.one_of(
        st.tuples(st.just("order"), st.integers(10, 120), st.integers(1, 24 * 60)),
        st.tuples(st.just("refund"), st.integers(0, 9), st.integers(1, 24 * 30)),
        st.tuples(st.just("adjust"), st.integers(1, 100), st.integers(1, 24 * 30)),
        st.tuples(st.just("review"), st.just(0), st.integers(1, 24 * 200)),
    )
    return st.lists(step, min_size=1, max_size=14)


@dataclass
class Model:
    entries: list[tuple[datetime, int]] = field(default_factory=list)  # points that count towards tiers
    orders: list[list[int]] = field(default_factory=list)  # [points earned, refunded 0|1]
    tier: int = -1
    since: datetime = TEST_NOW
    reviewed: str = ""
    paid: set[int] = field(default_factory=set)  # levels whose entry bonus was paid
    history: list[tuple[str | None, str | None, str]] = field(default_factory=list)

    @staticmethod
    def year(at: datetime) -> tuple[datetime, datetime]:
        return at.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0), at.replace(
            year=at.year + 1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0
        )

    def metric(self, start: datetime, end: datetime) -> int:
        return sum(points for at, points in self.entries if start <= at < end)

    @staticmethod
    def reached(metric: int) -> int:
        return max((i for i, level in enumerate(LEVELS) if metric >= level[1]), default=-1)

    @staticmethod
    def name(index: int) -> str | None:
        return LEVELS[index][0] if index >= 0 else None

    def qualify(self, at: datetime) -> None:
        reached = self.reached(self.metric(*self.year(at)))
        if reached > self.tier:
            self.paid |= {i for i in range(self.tier + 1, reached + 1) if LEVELS[i][3]}
            self.history.append((self.name(self.tier), self.name(reached), "qualified"))
            self.tier, self.since = reached, at

    def order(self, amount: int, at: datetime) -> None:
        points = amount * (LEVELS[self.tier][2] if self.tier >= 0 else 1)
        self.entries.append((at, points))
        self.orders.append([points, 0])
        self.qualify(at)

    def refund(self, index: int, at: datetime) -> None:
        if index < len(self.orders) and not self.orders[index][1]:
            self.entries.append((at, -self.orders[index][0]))
            self.orders[index][1] = 1

    def adjust(self, points: int, at: datetime) -> None:
        self.entries.append((at, points))
        self.qualify(at)

    def review(self, at: datetime) -> None:
        if self.tier < 0:
            return
        start, end = self.year(at)
        reached = self.reached(self.metric(start, end))
        if reached > self.tier:
            self.qualify(at)
            return
        ended = str(start.year - 1)
        if at >= start + timedelta(days=GRACE_DAYS) and self.reviewed != ended:
            before = self.year(start - timedelta(days=1))
            kept = max(self.reached(self.metric(*before)), reached)
            self.reviewed = ended
            if kept < self.tier and self.since < start:
                to = max(kept, self.tier - 1)
                self.history.append((self.name(self.tier), self.name(to), "review"))
                self.tier, self.since = to, at


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


_BRIDGES: dict[str, Bridge] = {}


def _bridge(make_bridge: Callable[..., Bridge]) -> Bridge:
    """One bridge for all examples of a test run (each example has its own shopper and orders)."""
    key = str(id(make_bridge))
    if key not in _BRIDGES:
        levels = [
            {"id": i, "name": i.title(), "threshold": th, "multiplier": m, "entry_points": bonus}
            for i, th, m, bonus in LEVELS
        ]
        tiers = {"metric": "points", "window": "calendar_year", "grace_days": GRACE_DAYS, "levels": levels}
        _BRIDGES[key] = make_bridge(program={"earn": {"signup_points": 0}, "tiers": tiers})
    return _BRIDGES[key]


def _order(order_id: str, email: str, amount: int, at: datetime, refunded: bool = False) -> ShopOrder:
    money = Decimal(amount)
    return ShopOrder(
        order_id=order_id,
        status="refunded" if refunded else "processing",
        currency="USD",
        total=money,
        total_tax=Decimal(0),
        shipping_total=Decimal(0),
        discount_total=Decimal(0),
        customer_id=None,
        email=email,
        date_created=at,
        date_modified=at,
        date_paid=at,
        line_items=(LineItem("10", "0", "", 1, money, money, Decimal(0)),),
        refunds=(Refund("1", money, ""),) if refunded else (),
        coupon_codes=(),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(story=events())
def test_tier_history_and_entry_bonuses_match_the_model(make_bridge: Callable[..., Bridge], story: list[Event]) -> None:
    bridge = _bridge(make_bridge)
    rt = bridge.rt
    run = next(COUNTER)
    email = f"tiered{run}@example.test"
    model = Model()
    at = TEST_NOW
    amounts: list[int] = []
    member_id: int | None = None
    for kind, arg, hours in story:
        at += timedelta(hours=hours)
        with clock_at(at), use_runtime(rt):
            if kind == "order":
                order = _order(f"t{run}-{len(amounts)}", email, arg, at)
                with db.write(rt.engine) as conn:
                    apply_order(conn, rt.shop_context(SHOP), order)
                    observe_order(conn, rt.shop_context(SHOP), order)
                    member_id = member_store.by_email(conn, "club", email)
                amounts.append(arg)
                model.order(arg, at)
            elif kind == "refund" and arg < len(amounts):
                order = _order(f"t{run}-{arg}", email, amounts[arg], at, refunded=True)
                with db.write(rt.engine) as conn:
                    apply_order(conn, rt.shop_context(SHOP), order)
                    observe_order(conn, rt.shop_context(SHOP), order)
                model.refund(arg, at)
            elif kind == "adjust" and member_id is not None:
                body = {"points": arg, "reason": "property"}
                response = bridge.admin("POST", f"/admin/v1/members/{member_id}/adjustments", json=body)
                assert response.status_code == 201, response.get_json()
                model.adjust(arg, at)
            elif kind == "review":
                run_review(rt, at)
                model.review(at)
    if member_id is None:
        return
    event(f"moves up: {sum(r == 'qualified' for _, _, r in model.history)}")
    event(f"moves down: {sum(r == 'review' for _, _, r in model.history)}")
    assert _history(bridge, member_id) == model.history
    assert _bonuses(bridge, member_id) == {LEVELS[i][0]: LEVELS[i][3] for i in model.paid}
    member = bridge.admin("GET", f"/admin/v1/members/{member_id}").get_json()
    assert (member["tier"] or {}).get("id") == model.name(model.tier)


def _history(bridge: Bridge, member_id: int) -> list[tuple[Any, Any, str]]:
    h = t.member_tier_history.c
    with db.read(bridge.rt.engine) as conn:
        rows = conn.execute(select(h.from_tier, h.to_tier, h.reason).where(h.member_id == member_id).order_by(h.id))
        return [(a, b, c) for a, b, c in rows]


def _bonuses(bridge: Bridge, member_id: int) -> dict[str, int]:
    e = t.ledger_entry.c
    with db.read(bridge.rt.engine) as conn:
        rows = conn.execute(select(e.cause_id, e.points).where(e.member_id == member_id, e.cause_type == "tier"))
        found: dict[str, int] = {}
        for level, points in rows:
            assert level not in found, "an entry bonus paid twice"
            found[level] = points
        return found
