"""Tiers on the real pipeline: deliveries -> inbox -> worker -> ledger -> tier, and the review on the test clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bridge.storage import clock, db
from bridge.storage import tables as t
from tests.support import clock as test_clock
from tests.support import woo
from tests.support.client import Bridge

LEVELS = [
    {"id": "silver", "name": {"en": "Silver", "fa": "نقره‌ای"}, "threshold": 30, "entry_points": 10},
    {"id": "gold", "name": "Gold", "threshold": 60, "multiplier": 2, "entry_points": 100},
    {"id": "platinum", "name": "Platinum", "threshold": 1000},
]


def tiers_config(**tiers: Any) -> dict[str, Any]:
    return {"program": {"earn": {"signup_points": 0}, "tiers": {"metric": "points", "levels": LEVELS, **tiers}}}


@pytest.fixture
def tiered(make_bridge: Callable[..., Bridge]) -> Callable[..., Bridge]:
    """A bridge whose program has silver (30 points), gold (60, x2, +100) and platinum (1000)."""

    def build(**tiers: Any) -> Bridge:
        return make_bridge(**tiers_config(**tiers))

    return build


def order(bridge: Bridge, order_id: int, name: str = "order.updated.processing-paid", **changes: Any) -> None:
    """Order ``order_id`` by Carol (35 points at 1 point per unit, 42.90 spent), drained."""
    bridge.send_ok(*woo.with_order_id(name, order_id, **changes))
    bridge.drain()


def carol(bridge: Bridge) -> int:
    member = bridge.member(woo.CAROL)
    assert member is not None
    return int(member["id"])


def tier_row(bridge: Bridge, member_id: int) -> dict[str, Any]:
    with db.read(bridge.rt.engine) as conn:
        row = conn.execute(select(t.member_tier).where(t.member_tier.c.member_id == member_id)).mappings().one()
        return dict(row)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """The bridge's clock (entries' and orders' times) moved to ``moment``, from TEST_NOW's offset."""
    shift = (moment - test_clock.TEST_NOW).total_seconds()
    previous = clock.install(clock.SystemClock(timedelta(seconds=test_clock.offset_seconds() + shift)))
    try:
        yield
    finally:
        clock.install(previous)
