"""Duplicates, every arrival order and a completed-at-create delivery all end in the same ledger.

Each permutation is played on its own order id (the bodies re-signed as the shop would), all in one database,
so the ledger of every order can be compared with the ledger of the in-order run.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from bridge.storage import db
from bridge.storage import tables as t
from tests.integration.conftest import BOTH_BACKENDS
from tests.support import woo
from tests.support.client import Bridge

Signature = tuple[tuple[str, int, str, str], ...]


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def ledger_by_order(bridge: Bridge) -> dict[str, Signature]:
    """Each order's entries as (kind, points, rule, refund), in a canonical order."""
    e = t.ledger_entry.c
    with db.read(bridge.rt.engine) as conn:
        rows = conn.execute(select(e.cause_id, e.kind, e.points, e.rule_id, e.refund_id).where(e.cause_type == "order"))
        by_order: dict[str, list[tuple[str, int, str, str]]] = {}
        for order_id, kind, points, rule, refund in rows:
            by_order.setdefault(order_id, []).append((kind, points, rule, refund))
    return {order_id: tuple(sorted(entries)) for order_id, entries in by_order.items()}


def deliver_as(bridge: Bridge, name: str, order_id: int) -> None:
    bridge.send_ok(*woo.with_order_id(name, order_id))


IN_ORDER: Signature = (
    ("earn", 35, "per_amount", ""),
    ("reverse", -27, "per_amount", "14"),
    ("reverse", -8, "per_amount", "13"),
)


def test_the_same_delivery_three_times_counts_once(bridge: Bridge) -> None:
    for name in woo.ORDER_12_SEQUENCE[:5]:
        for _ in range(3):
            bridge.deliver_ok(name)
    bridge.drain()
    assert bridge.inbox_count("done") == 15
    assert bridge.available() == 27


def test_redelivering_everything_after_processing_changes_nothing(bridge: Bridge) -> None:
    for name in woo.ORDER_12_SEQUENCE:
        bridge.deliver_ok(name)
    bridge.drain()
    before = ledger_by_order(bridge)
    for name in reversed(woo.ORDER_12_SEQUENCE):
        bridge.deliver_ok(name)
    bridge.drain()
    assert ledger_by_order(bridge) == before == {"12": IN_ORDER}


def test_every_permutation_of_one_orders_deliveries_gives_the_same_ledger(bridge: Bridge) -> None:
    # 720 permutations of the six captured deliveries of order 12, each on its own order id
    permutations = list(itertools.permutations(woo.ORDER_12_SEQUENCE))
    for index, permutation in enumerate(permutations):
        for name in permutation:
            deliver_as(bridge, name, 10_000 + index)
    bridge.drain()
    ledgers = ledger_by_order(bridge)
    assert len(ledgers) == len(permutations)
    assert Counter(ledgers.values()) == Counter({IN_ORDER: len(permutations)})
    assert bridge.inbox_count("failed") == 0
    assert bridge.balance() == {"available": 0, "pending": 0, "lifetime": 0}


def test_every_permutation_up_to_the_partial_refund_leaves_27_points_per_order(bridge: Bridge) -> None:
    sequence = woo.ORDER_12_SEQUENCE[:5]
    permutations = list(itertools.permutations(sequence))
    for index, permutation in enumerate(permutations):
        for name in permutation:
            deliver_as(bridge, name, 20_000 + index)
    bridge.drain()
    expected = (("earn", 35, "per_amount", ""), ("reverse", -8, "per_amount", "13"))
    assert set(ledger_by_order(bridge).values()) == {expected}
    assert bridge.available() == 27 * len(permutations)


def test_an_order_created_already_completed_earns_like_the_step_by_step_order(bridge: Bridge) -> None:
    completed = woo.payload("order.updated.completed")
    data: dict[str, Any] = woo.payload("order.created.pending") | {
        key: completed[key] for key in ("status", "date_paid_gmt", "date_completed_gmt", "date_modified_gmt")
    }
    data["id"] = 900
    bridge.send_ok(*woo.signed("order.created.pending", data))
    for name in woo.ORDER_12_SEQUENCE:
        bridge.deliver_ok(name)
    bridge.drain()
    ledgers = ledger_by_order(bridge)
    assert ledgers["900"] == (("earn", 35, "per_amount", ""),)
    assert bridge.available() == 35


def test_an_updated_that_arrives_before_its_created_converges(bridge: Bridge) -> None:
    # seen live: in a storefront checkout order.updated arrived before order.created
    bridge.deliver_ok("order.updated.processing-paid")
    bridge.deliver_ok("order.created.pending")
    bridge.drain()
    assert bridge.available() == 35
