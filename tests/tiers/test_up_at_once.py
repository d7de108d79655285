"""Up at once: the order that crosses a threshold moves its member up in the same transaction, with the level's
entry bonus paid exactly once; the level's multiplier applies to the next order."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from bridge.storage import db
from bridge.storage import tables as t
from tests.integration.conftest import BOTH_BACKENDS
from tests.support import woo
from tests.support.client import Bridge
from tests.tiers.conftest import carol, order


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_the_order_that_crosses_a_threshold_moves_the_member_up_with_its_entry_bonus(
    tiered: Callable[..., Bridge],
) -> None:
    bridge = tiered()
    order(bridge, 501)  # 35 points: silver (30)
    member = bridge.member(woo.CAROL)
    assert member is not None
    assert member["tier"]["id"] == "silver" and member["tier"]["source"] == "earned"
    assert member["balance"]["available"] == 35 + 10

    order(bridge, 502)  # 70 points (the silver bonus does not count): gold (60)
    member = bridge.member(woo.CAROL)
    assert member is not None
    assert member["tier"] == {"id": "gold", "name": "Gold", "since": member["tier"]["since"], "source": "earned"}
    assert member["balance"]["available"] == 70 + 10 + 100

    order(bridge, 503)  # gold earns twice: 70
    assert bridge.available() == 70 + 10 + 100 + 70
    entries = bridge.ledger(carol(bridge))
    assert sorted(e["points"] for e in entries if e["kind"] == "earn") == [10, 35, 35, 70, 100]


def test_an_entry_bonus_is_paid_once_under_redelivery_and_replay(tiered: Callable[..., Bridge]) -> None:
    bridge = tiered()
    for _ in range(3):  # the same order, delivered three times
        order(bridge, 501)
    order(bridge, 501, "order.updated.completed")
    member_id = carol(bridge)
    with db.read(bridge.rt.engine) as conn:
        bonuses = conn.scalar(
            select(func.count()).select_from(t.ledger_entry).where(t.ledger_entry.c.cause_type == "tier")
        )
        changes = conn.scalar(
            select(func.count())
            .select_from(t.member_tier_history)
            .where(t.member_tier_history.c.member_id == member_id)
        )
    assert bonuses == 1 and changes == 1
    assert bridge.available() == 35 + 10


def test_a_jump_over_a_level_pays_each_level_reached(tiered: Callable[..., Bridge]) -> None:
    bridge = tiered()
    data = woo.payload("order.updated.processing-paid")
    data["id"] = 501
    data["line_items"][0]["total"] = "70.00"  # 70 points at once: past silver straight to gold
    bridge.send_ok(*woo.signed("order.updated.processing-paid", data))
    bridge.drain()
    member = bridge.member(woo.CAROL)
    assert member is not None and member["tier"]["id"] == "gold"
    assert member["balance"]["available"] == 70 + 10 + 100


def test_an_adjustment_that_crosses_a_threshold_moves_the_member_up(tiered: Callable[..., Bridge]) -> None:
    bridge = tiered()
    order(bridge, 501)
    member_id = carol(bridge)
    response = bridge.admin(
        "POST", f"/admin/v1/members/{member_id}/adjustments", json={"points": 30, "reason": "goodwill"}
    )
    assert response.status_code == 201
    member = bridge.member(woo.CAROL)
    assert member is not None and member["tier"]["id"] == "gold"


def test_a_member_below_the_first_level_has_no_tier(tiered: Callable[..., Bridge]) -> None:
    bridge = tiered(levels=[{"id": "silver", "name": "Silver", "threshold": 100}])
    order(bridge, 501)
    member = bridge.member(woo.CAROL)
    assert member is not None and member["tier"] is None
