"""``AfterCommitTrigger``: one Redis call may cover several deliveries, but only those committed before it began."""

from __future__ import annotations

from typing import Any, cast

from bridge.inbox.service import AfterCommitTrigger
from bridge.runtime import Runtime


class _Drains:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def ensure_drain(self, shop_id: str) -> bool:
        self.calls.append(shop_id)
        return True


class _Runtime:
    def __init__(self) -> None:
        self.drains = _Drains()


def _runtime() -> tuple[Runtime, list[str]]:
    rt: Any = _Runtime()
    return cast(Runtime, rt), rt.drains.calls


def test_deliveries_one_after_the_other_each_call_redis() -> None:
    rt, calls = _runtime()
    trigger = AfterCommitTrigger()
    for _ in range(3):
        trigger.ensure_drain(rt, "shop1", trigger.committed())
    assert calls == ["shop1"] * 3


def test_a_call_that_started_after_a_commit_covers_that_delivery() -> None:
    rt, calls = _runtime()
    trigger = AfterCommitTrigger()
    first, second = trigger.committed(), trigger.committed()  # both rows committed
    trigger.ensure_drain(rt, "shop1", first)  # starts after both commits
    trigger.ensure_drain(rt, "shop1", second)  # covered: nothing to do
    assert calls == ["shop1"]


def test_a_call_that_started_before_a_commit_never_covers_it() -> None:
    # the "drain pending" memo's failure: a drain may have cleared the flag and read the inbox in between
    rt, calls = _runtime()
    trigger = AfterCommitTrigger()
    trigger.ensure_drain(rt, "shop1", trigger.committed())
    later = trigger.committed()
    trigger.ensure_drain(rt, "shop1", later)
    assert calls == ["shop1", "shop1"]


def test_shops_are_independent() -> None:
    rt, calls = _runtime()
    trigger = AfterCommitTrigger()
    one, two = trigger.committed(), trigger.committed()
    trigger.ensure_drain(rt, "shop1", one)
    trigger.ensure_drain(rt, "shop2", two)
    assert calls == ["shop1", "shop2"]
