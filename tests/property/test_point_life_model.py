"""Random order histories against an independent, simple model of what the ledger must end up holding.

Events: snapshots of a few orders (paid, completed, partial refunds, refunded or cancelled) delivered in any
order, duplicated or stale; rule changes between deliveries; the clock advancing through holds and expiries
(the release and expiry jobs run); spends. The model below knows nothing of ledger entries or keys: orders earn
``floor(amount x rate in force when first applied)``, refunds take back the cumulative pro-rata share, points
wait ``hold`` after completion, then form a lot that expires a month later, debits consume the oldest lots first.

Half the stories are drained (issue 19): their deliveries wait in the inbox and the drain job's function applies
them, in pages of order snapshots, whenever time passes, the rate changes or the member spends.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bridge.connectors.base import LineItem, Refund, ShopOrder
from bridge.connectors.woocommerce.webhooks import parse_order
from bridge.errors import InsufficientPoints
from bridge.inbox.service import process_due
from bridge.ledger import service as ledger
from bridge.ledger.jobs import run_expiry, run_release
from bridge.orders.service import ShopContext, apply_order
from bridge.rules import RuleSet
from bridge.rules.per_amount import PerAmountRule
from bridge.runtime import use_runtime
from bridge.storage import db
from bridge.storage import inbox as inbox_store
from bridge.storage import members as member_store
from bridge.storage import tables as t
from bridge.storage.clock import add_months, utcnow
from tests.integration.conftest import BOTH_BACKENDS
from tests.support.client import SHOP, Bridge

BASE = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
HOLD = timedelta(days=1)
COUNTER = itertools.count()


# --- the story ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    order: int
    index: int
    status: str
    refunds: tuple[Decimal, ...]
    modified: datetime
    completed: datetime | None


@dataclass(frozen=True)
class Story:
    amounts: tuple[Decimal, ...]
    snapshots: tuple[tuple[Snapshot, ...], ...]
    events: tuple[tuple[Any, ...], ...]
    drained: bool = False  # deliveries stored in the inbox and drained (in pages) before time passes or a spend


@st.composite
def stories(draw: st.DrawFn) -> Story:
    n_orders = draw(st.integers(1, 4))
    amounts, snapshots = [], []
    for k in range(n_orders):
        amount = Decimal(draw(st.integers(100, 20000))) / 100
        refunds: list[Decimal] = []
        left = amount
        for _ in range(draw(st.integers(0, 2))):
            part = Decimal(draw(st.integers(1, int(left * 100)))) / 100 if left > Decimal("0.01") else Decimal(0)
            if part > 0:
                refunds.append(part)
                left -= part
        final = draw(st.sampled_from(["completed", "refunded", "cancelled"]))
        done = BASE + timedelta(days=draw(st.integers(0, 45)), hours=k + 1)  # spread: lots of different ages
        story = [Snapshot(k, 0, "processing", (), BASE + timedelta(minutes=10 * k), None)]
        story.append(Snapshot(k, 1, "completed", (), done, done))
        for i in range(len(refunds)):
            story.append(
                Snapshot(k, len(story), "completed", tuple(refunds[: i + 1]), done + timedelta(hours=i + 1), done)
            )
        if final != "completed":
            story.append(Snapshot(k, len(story), final, tuple(refunds), done + timedelta(hours=5), done))
        amounts.append(amount)
        snapshots.append(tuple(story))
    deliver = st.tuples(st.just("deliver"), st.integers(0, n_orders - 1), st.integers(0, 10))
    tick = st.tuples(st.just("tick"), st.integers(1, 24 * 25))
    spend = st.tuples(st.just("spend"), st.integers(1, 120))
    # weighted by repetition: mostly deliveries, then time passing and spending
    event = st.one_of(
        deliver, deliver, deliver, tick, tick, spend, spend, st.tuples(st.just("rate"), st.integers(1, 3))
    )
    events = draw(st.lists(event, min_size=20, max_size=60))
    return Story(tuple(amounts), tuple(snapshots), tuple(events), draw(st.booleans()))


# --- the model ----------------------------------------------------------------------------------------------------
@dataclass
class ModelOrder:
    last_modified: datetime | None = None
    points: int = 0
    reversed: int = 0
    completed: datetime | None = None
    released: bool = False


@dataclass
class Model:
    rate: int = 1
    now: datetime = BASE
    pending: int = 0
    lots: list[list[Any]] = field(default_factory=list)  # [expiry date, points left], oldest first
    debt: int = 0  # debits beyond every lot (a clawback after spending): paid by the next lots
    spent: int = 0
    expired: int = 0
    earned: int = 0
    reversed: int = 0
    orders: dict[int, ModelOrder] = field(default_factory=dict)

    @property
    def available(self) -> int:
        return sum(lot[1] for lot in self.lots) - self.debt

    def debit_available(self, points: int) -> None:
        for lot in self.lots:
            take = min(lot[1], points)
            lot[1] -= take
            points -= take
        self.debt += points

    def deliver(self, snap: Snapshot, amount: Decimal) -> None:
        o = self.orders.setdefault(snap.order, ModelOrder())
        if o.last_modified is not None and snap.modified < o.last_modified:
            return  # older than what we already know
        o.last_modified = snap.modified
        if o.points == 0:
            o.points = int((amount * self.rate).to_integral_value(rounding=ROUND_FLOOR))
            self.pending += o.points
            self.earned += o.points
        if snap.status == "completed" and o.completed is None:
            o.completed = snap.completed
        refunded = min(sum(snap.refunds, Decimal(0)), amount)
        target = int((o.points * refunded / amount).to_integral_value(rounding=ROUND_FLOOR))
        if snap.status in ("refunded", "cancelled"):
            target = o.points
        if target > o.reversed:
            self._reverse(o, target - o.reversed)

    def _reverse(self, o: ModelOrder, points: int) -> None:
        o.reversed += points
        self.reversed += points
        if o.released:
            self.debit_available(points)
        else:
            self.pending -= points

    def tick(self, hours: int) -> None:
        self.now += timedelta(hours=hours)
        for o in self.orders.values():  # release
            if o.completed is not None and o.completed + HOLD <= self.now and not o.released:
                o.released = True
                rest = o.points - o.reversed
                if rest > 0:
                    self.pending -= rest
                    paid_debt = min(self.debt, rest)
                    self.debt -= paid_debt
                    self.lots.append([add_months(self.now, 1), rest - paid_debt])
        for lot in self.lots:  # expiry
            if lot[0] <= self.now and lot[1] > 0:
                self.expired += lot[1]
                lot[1] = 0

    def spend(self, points: int) -> bool:
        if self.available < points:
            return False
        self.debit_available(points)
        self.spent += points
        return True


# --- the real thing -----------------------------------------------------------------------------------------------
def shop_order(snap: Snapshot, amount: Decimal, order_id: str, email: str) -> ShopOrder:
    return ShopOrder(
        order_id=order_id,
        status=snap.status,
        currency="USD",
        total=amount,
        total_tax=Decimal(0),
        shipping_total=Decimal(0),
        discount_total=Decimal(0),
        customer_id=None,
        email=email,
        date_created=BASE,
        date_modified=snap.modified,
        date_paid=BASE,
        line_items=(LineItem("10", "0", "", 1, amount, amount, Decimal(0)),),
        refunds=tuple(Refund(str(i + 1), r, "") for i, r in enumerate(snap.refunds)),
        coupon_codes=(),
        date_completed=snap.completed,
    )


def rules_at(rate: int) -> RuleSet:
    return RuleSet(order_rules=(PerAmountRule("per_amount", Decimal(rate)),))


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(story=stories())
def test_the_ledger_ends_where_the_simple_model_does(make_bridge: Callable[..., Bridge], story: Story) -> None:
    bridge = _bridge(make_bridge)
    run = next(COUNTER)
    email = f"shopper{run}@example.test"
    base_ctx: ShopContext = bridge.rt.shop_context(SHOP)
    model = Model()
    member_id: int | None = None
    bridge.rt.rules = rules_at(model.rate)  # what the drain prices with, as a published program sets it
    for n, event in enumerate(story.events):
        if event[0] != "deliver" and story.drained:
            member_id = _drain(bridge, email) or member_id  # what was delivered so far, before anything else
        if event[0] == "deliver":
            snaps = story.snapshots[event[1]]
            snap = snaps[event[2] % len(snaps)]
            order = shop_order(snap, story.amounts[snap.order], f"r{run}-{snap.order}", email)
            if story.drained:  # the delivery waits in the inbox for the drain
                _store(bridge, order, str(1_000_000 + 10 * run + snap.order))
            else:
                with db.write(bridge.rt.engine) as conn:
                    apply_order(conn, replace(base_ctx, rules=rules_at(model.rate)), order)
                    member_id = member_store.by_email(conn, "club", email)
            model.deliver(snap, story.amounts[snap.order])
        elif event[0] == "rate":
            model.rate = event[1]
            bridge.rt.rules = rules_at(model.rate)
        elif event[0] == "tick":
            model.tick(event[1])
            run_release(bridge.rt, model.now)
            run_expiry(bridge.rt, model.now)
        elif event[0] == "spend" and member_id is not None:
            expected = model.spend(event[1])
            try:
                with db.write(bridge.rt.engine) as conn:
                    ledger.spend(
                        conn,
                        program_id="club",
                        member_id=member_id,
                        points=event[1],
                        idempotency_key=f"r{run}:spend:{n}",
                        cause_type="test",
                        cause_id=str(n),
                    )
                spent = True
            except InsufficientPoints:
                spent = False
            assert spent == expected
            if spent:  # a clawback may take it below zero; the member's own spend never does
                assert _figures(bridge, member_id)["available"] >= 0
    if story.drained:
        member_id = _drain(bridge, email) or member_id
    if member_id is None:
        return
    figures = _figures(bridge, member_id)
    assert figures == {
        "available": model.available,
        "pending": model.pending,
        "earned": model.earned,
        "reversed": model.reversed,
        "spent": model.spent,
        "expired": model.expired,
        "duplicate_keys": 0,
    }
    assert (
        figures["pending"] + figures["available"] + figures["spent"] + figures["expired"] + figures["reversed"]
        == figures["earned"]
    )


def order_payload(order: ShopOrder, order_id: str) -> dict[str, Any]:
    """``order`` as WooCommerce delivers it (parsed back, it is ``order`` under ``order_id``)."""

    def gmt(moment: datetime | None) -> str | None:
        return moment.replace(tzinfo=None).isoformat() if moment else None

    line = order.line_items[0]
    return {
        "id": int(order_id),
        "status": order.status,
        "currency": order.currency,
        "total": str(order.total),
        "total_tax": "0",
        "shipping_total": "0",
        "discount_total": "0",
        "customer_id": 0,
        "billing": {"email": order.email},
        "date_created_gmt": gmt(order.date_created),
        "date_modified_gmt": gmt(order.date_modified),
        "date_paid_gmt": gmt(order.date_paid),
        "date_completed_gmt": gmt(order.date_completed),
        "line_items": [
            {
                "product_id": int(line.product_id),
                "quantity": line.quantity,
                "subtotal": str(line.subtotal),
                "total": str(line.total),
                "total_tax": "0",
            }
        ],
        "refunds": [{"id": int(r.refund_id), "total": f"-{r.amount}", "reason": r.reason} for r in order.refunds],
    }


def _store(bridge: Bridge, order: ShopOrder, order_id: str) -> None:
    data = order_payload(order, order_id)
    assert parse_order(data) == replace(order, order_id=order_id)  # the same snapshot the model is told of
    with db.write(bridge.rt.engine) as conn:
        inbox_store.add(
            conn,
            program_id="club",
            shop_id=SHOP,
            topic="order.updated",
            resource_id=order_id,
            platform_delivery_id="",
            headers={},
            body=json.dumps(data).encode(),
            now=utcnow(),
        )


def _drain(bridge: Bridge, email: str) -> int | None:
    """Drain the inbox with the drain job's own function (pages of order snapshots); the shopper's member."""
    with use_runtime(bridge.rt):
        while process_due(bridge.rt, SHOP):
            pass
    with db.read(bridge.rt.engine) as conn:
        assert conn.scalar(select(func.count()).where(t.inbox_delivery.c.state != "done")) == 0
        return member_store.by_email(conn, "club", email)


_BRIDGES: dict[str, Bridge] = {}


def _bridge(make_bridge: Callable[..., Bridge]) -> Bridge:
    """One bridge for all examples of a test run (each example has its own shopper and orders)."""
    key = str(id(make_bridge))  # the same for every example of one test call
    if key not in _BRIDGES:
        expiry = {"mode": "lot", "months": 1, "warn_days": 0}
        _BRIDGES[key] = make_bridge(program={"earn": {"release": "after_hold", "hold_days": 1, "expiry": expiry}})
    return _BRIDGES[key]


def _figures(bridge: Bridge, member_id: int) -> dict[str, int]:
    e = t.ledger_entry.c
    with db.read(bridge.rt.engine) as conn:
        rows = conn.execute(
            select(e.kind, e.state, func.sum(e.points)).where(e.member_id == member_id).group_by(e.kind, e.state)
        ).all()
        keys = conn.execute(
            select(func.count(), func.count(func.distinct(e.idempotency_key))).where(e.member_id == member_id)
        ).one()
    by: dict[tuple[str, str], int] = {(k, s): int(p) for k, s, p in rows}

    def total(kind: str) -> int:
        return sum(v for (k, _), v in by.items() if k == kind)

    return {
        "available": sum(v for (_, s), v in by.items() if s == "available"),
        "pending": sum(v for (_, s), v in by.items() if s == "pending"),
        "earned": total("earn"),
        "reversed": -total("reverse"),
        "spent": -total("spend"),
        "expired": -total("expire"),
        "duplicate_keys": keys[0] - keys[1],
    }
