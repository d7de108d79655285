"""The outbox: events are written in the transaction of their change, once per cause, never without it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bridge.connectors.woocommerce.webhooks import parse_order
from bridge.inbox.dispatch import observe_order
from bridge.ledger.jobs import run_expiry, run_release
from bridge.orders.service import apply_order
from bridge.storage import db
from tests.notifications.conftest import events
from tests.support import clock as test_clock
from tests.support import woo
from tests.support.client import SHOP, Bridge

COMPLETED_AT = datetime(2026, 11, 23, 22, 32, 58, tzinfo=UTC)


def by_type(bridge: Bridge) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {}
    for event in events(bridge):
        out.setdefault(str(event["type"]), []).append(event)
    return out


def test_a_paid_order_writes_thank_you_and_points_earned_once(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge()
    for name in ("customer.created", "order.updated.processing-paid", "order.updated.completed"):
        bridge.deliver_ok(name)
    bridge.drain()
    for name in woo.ORDER_12_SEQUENCE[:3]:  # replays and later snapshots of the same order
        bridge.deliver_ok(name)
    bridge.drain()

    found = by_type(bridge)
    assert sorted(found) == ["points_earned", "thank_you"]
    (earned,) = found["points_earned"]
    assert earned["key"] == f"{SHOP}:order:12:c1:points_earned"
    assert earned["payload"] == {"order_id": "12", "total": "42.90", "currency": "USD", "points": 35}
    member = bridge.member(woo.CAROL)
    assert member is not None and earned["member_id"] == member["id"]
    assert len(found["thank_you"]) == 1


def test_a_rolled_back_change_leaves_no_event(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge()
    rt = bridge.rt
    order = parse_order(woo.payload("order.updated.processing-paid"))
    with pytest.raises(RuntimeError, match="crash"), db.write(rt.engine) as conn:
        apply_order(conn, rt.shop_context(SHOP), order)
        observe_order(conn, rt.shop_context(SHOP), order)
        assert [e["type"] for e in _events_in(conn)] == ["thank_you", "points_earned"]
        raise RuntimeError("crash before commit")

    assert events(bridge) == []
    assert bridge.member(woo.CAROL) is None  # and no change without its event: neither is there


def _events_in(conn: object) -> list[dict[str, object]]:
    from sqlalchemy import select

    from bridge.storage import tables as t

    return [dict(r) for r in conn.execute(select(t.domain_event).order_by(t.domain_event.c.id)).mappings()]  # type: ignore[attr-defined]


def test_an_old_order_from_a_backfill_gets_no_message(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(clock={"offset_seconds": test_clock.offset_seconds() + 60 * 86400})  # two months later
    bridge.deliver_ok("order.updated.processing-paid")
    bridge.drain()
    assert events(bridge) == []


def test_release_and_expiry_write_their_events(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(
        program={"earn": {"release": "after_hold", "hold_days": 14, "expiry": {"mode": "lot", "months": 1}}}
    )
    for name in ("customer.created", "order.updated.processing-paid", "order.updated.completed"):
        bridge.deliver_ok(name)
    bridge.drain()

    released_at = COMPLETED_AT + timedelta(days=14)
    assert run_release(bridge.rt, released_at)["points"] == 35
    assert run_release(bridge.rt, released_at)["points"] == 0
    (released,) = by_type(bridge)["points_released"]
    assert released["payload"] == {"order_id": "12", "points": 35}

    assert run_expiry(bridge.rt, released_at + timedelta(days=10))["warned"] == 1  # within warn_days (30)
    assert run_expiry(bridge.rt, released_at + timedelta(days=40))["expired"] == 85  # sign-up bonus and order
    run_expiry(bridge.rt, released_at + timedelta(days=40))
    found = by_type(bridge)
    assert [e["payload"]["points"] for e in found["points_expiring_soon"]] == [85]  # type: ignore[index]
    assert [e["payload"]["points"] for e in found["points_expired"]] == [85]  # type: ignore[index]
