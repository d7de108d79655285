"""The life of a point on the real pipeline: pending until completed + hold, refunds during the hold, expiry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bridge.errors import InsufficientPoints
from bridge.ledger import service as ledger
from bridge.ledger.jobs import run_expiry, run_release
from bridge.ledger.model import EntryKind, NewEntry
from bridge.storage import db
from bridge.storage.clock import utcnow
from tests.integration.conftest import BOTH_BACKENDS
from tests.support import woo
from tests.support.client import Bridge

HOLD = {"program": {"earn": {"release": "after_hold", "hold_days": 14}}}
COMPLETED_AT = datetime(2026, 11, 23, 22, 32, 58, tzinfo=UTC)  # date_completed_gmt of order 12's fixture


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def deliver(bridge: Bridge, *names: str) -> None:
    for name in names:
        bridge.deliver_ok(name)
    bridge.drain()


def carol(bridge: Bridge) -> int:
    member = bridge.member(woo.CAROL)
    assert member is not None
    return int(member["id"])


def test_order_points_stay_pending_until_completed_plus_the_hold(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(**HOLD)
    deliver(bridge, "customer.created", "order.updated.processing-paid")
    assert bridge.balance() == {"available": 50, "pending": 35, "lifetime": 85}
    assert run_release(bridge.rt, utcnow() + timedelta(days=400))["orders"] == 0  # paid, not completed

    # pending points cannot be spent: only the 50 available can
    with pytest.raises(InsufficientPoints), db.write(bridge.rt.engine) as conn:
        ledger.spend(
            conn,
            program_id="club",
            member_id=carol(bridge),
            points=51,
            idempotency_key="k",
            cause_type="t",
            cause_id="1",
        )

    deliver(bridge, "order.updated.completed")
    assert run_release(bridge.rt, COMPLETED_AT + timedelta(days=14) - timedelta(seconds=1))["points"] == 0
    assert bridge.balance()["pending"] == 35
    assert run_release(bridge.rt, COMPLETED_AT + timedelta(days=14)) == {"orders": 1, "points": 35}
    assert bridge.balance() == {"available": 85, "pending": 0, "lifetime": 85}
    assert run_release(bridge.rt, COMPLETED_AT + timedelta(days=30))["orders"] == 0  # done once

    releases = [e for e in bridge.ledger(carol(bridge)) if e["kind"] == "release"]
    assert sorted(e["points"] for e in releases) == [-35, 35]


def test_a_refund_during_the_hold_takes_pending_points_and_one_after_takes_available(
    make_bridge: Callable[..., Bridge],
) -> None:
    bridge = make_bridge(**HOLD)
    deliver(bridge, "customer.created", "order.updated.processing-paid", "order.updated.completed")
    deliver(bridge, "order.updated.partial-refund")  # 8 points back, from pending
    assert bridge.balance() == {"available": 50, "pending": 27, "lifetime": 77}
    assert run_release(bridge.rt, COMPLETED_AT + timedelta(days=15))["points"] == 27  # what the earn still holds
    assert bridge.balance() == {"available": 77, "pending": 0, "lifetime": 77}
    deliver(bridge, "order.updated.fully-refunded")  # the rest, from available now
    assert bridge.balance() == {"available": 50, "pending": 0, "lifetime": 50}
    deliver(bridge, *woo.ORDER_12_SEQUENCE)  # replays change nothing
    assert bridge.balance() == {"available": 50, "pending": 0, "lifetime": 50}


def test_a_cancellation_during_the_hold_leaves_nothing_to_release(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(**HOLD)
    body, headers = woo.with_order_id("order.updated.processing-paid", 15)
    bridge.send_ok(body, headers)
    body, headers = woo.with_order_id("order.updated.completed", 15)
    bridge.send_ok(body, headers)
    bridge.drain()
    assert bridge.balance() == {"available": 0, "pending": 35, "lifetime": 35}
    deliver(bridge, "order.updated.cancelled")
    assert bridge.balance() == {"available": 0, "pending": 0, "lifetime": 0}
    assert run_release(bridge.rt, COMPLETED_AT + timedelta(days=15))["points"] == 0
    assert bridge.balance() == {"available": 0, "pending": 0, "lifetime": 0}


def _lot(member_id: int, points: int, available_at: datetime, key: str) -> NewEntry:
    return NewEntry(
        program_id="club",
        member_id=member_id,
        points=points,
        kind=EntryKind.ADJUST,
        idempotency_key=key,
        available_at=available_at,
    )


def test_per_lot_expiry_consumes_the_oldest_lot_first(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(program={"earn": {"signup_points": 0, "expiry": {"mode": "lot", "months": 12}}})
    deliver(bridge, "customer.created")
    member_id, now = carol(bridge), utcnow()
    with db.write(bridge.rt.engine) as conn:
        ledger.post(conn, _lot(member_id, 100, now - timedelta(days=380), "old"))
        ledger.post(conn, _lot(member_id, 100, now - timedelta(days=30), "new"))
        ledger.spend(
            conn, program_id="club", member_id=member_id, points=30, idempotency_key="s", cause_type="t", cause_id="1"
        )
    # the spend took 30 of the old lot: 70 of it expire, the new lot is untouched
    assert run_expiry(bridge.rt, now)["expired"] == 70
    assert bridge.available() == 100
    assert run_expiry(bridge.rt, now)["expired"] == 0  # the same lots never expire twice
    expiries = [e for e in bridge.ledger(member_id) if e["kind"] == "expire"]
    assert [e["points"] for e in expiries] == [-70]

    # within 30 days of the new lot's date (about now + 335 days): an "expiring soon" event, once
    soon = now + timedelta(days=310)
    assert run_expiry(bridge.rt, soon)["warned"] == 1
    assert run_expiry(bridge.rt, soon)["warned"] == 0
    events = bridge.admin("GET", f"/admin/v1/members/{member_id}/point-events").get_json()["events"]
    assert [(e["kind"], e["points"], e["details"]["mode"]) for e in events] == [("expiring_soon", 100, "lot")]
    assert run_expiry(bridge.rt, now + timedelta(days=336))["expired"] == 100
    assert bridge.balance()["available"] == 0


def test_whole_balance_expiry_after_inactivity(make_bridge: Callable[..., Bridge]) -> None:
    expiry: dict[str, Any] = {"mode": "inactivity", "months": 6, "warn_days": 10}
    bridge = make_bridge(program={"earn": {"expiry": expiry}})
    deliver(bridge, "customer.created", "order.updated.processing-paid")
    assert bridge.available() == 85
    now = utcnow()
    assert run_expiry(bridge.rt, now + timedelta(days=170)) == {"members": 0, "expired": 0, "warned": 0}
    assert run_expiry(bridge.rt, now + timedelta(days=178))["warned"] == 1
    assert run_expiry(bridge.rt, now + timedelta(days=190))["expired"] == 85
    assert bridge.balance() == {"available": 0, "pending": 0, "lifetime": 85}
    assert run_expiry(bridge.rt, now + timedelta(days=400))["expired"] == 0


def test_points_held_before_a_switch_to_on_payment_still_come_out(make_bridge: Callable[..., Bridge]) -> None:
    held = make_bridge(**HOLD)
    deliver(held, "customer.created", "order.updated.processing-paid", "order.updated.completed")
    assert held.balance()["pending"] == 35
    switched = make_bridge(program={"earn": {"release": "on_payment", "hold_days": 14}})
    assert run_release(switched.rt, COMPLETED_AT + timedelta(days=14))["points"] == 35
    assert switched.balance() == {"available": 85, "pending": 0, "lifetime": 85}
