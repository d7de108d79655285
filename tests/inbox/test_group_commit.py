"""Deliveries stored at the same moment share one commit (one fsync), and each is answered with its own row."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import select

from bridge.storage import db
from bridge.storage import inbox as store
from bridge.storage import tables as t
from tests.inbox.test_store import _delivery
from tests.integration.conftest import BOTH_BACKENDS
from tests.support.client import Bridge


def _resource_of_each_row(bridge: Bridge) -> dict[int, str]:
    with db.read(bridge.rt.engine) as conn:
        rows = conn.execute(select(t.inbox_delivery.c.id, t.inbox_delivery.c.resource_id)).all()
    return {int(row_id): str(resource) for row_id, resource in rows}


def _store_at_once(bridge: Bridge, deliveries: list[dict[str, Any]]) -> list[int | BaseException]:
    results: list[int | BaseException] = [0] * len(deliveries)

    def store_one(i: int) -> None:
        try:
            results[i] = store.add_committed(bridge.rt.engine, **deliveries[i])
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=store_one, args=(i,)) for i in range(len(deliveries))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.mark.parametrize("backend", BOTH_BACKENDS)
def test_concurrent_deliveries_are_each_stored_once_and_answered_with_their_own_id(bridge: Bridge) -> None:
    deliveries = [_delivery(bridge, resource_id=str(1000 + i), platform_delivery_id=f"d{i}") for i in range(40)]
    results = _store_at_once(bridge, deliveries)
    stored = _resource_of_each_row(bridge)
    assert len(stored) == 40
    assert [stored[r] for r in results if isinstance(r, int)] == [d["resource_id"] for d in deliveries]


def test_a_row_that_fails_in_a_shared_commit_fails_alone(bridge: Bridge) -> None:
    """Hold SQLite's writer lock so the deliveries queue up and share one commit; one of them is bad."""
    engine = bridge.rt.engine
    deliveries = [_delivery(bridge, resource_id=str(2000 + i)) for i in range(5)]
    deliveries[3]["shop_id"] = "no-such-shop"  # a foreign key the database refuses
    with db._sqlite_writer_lock(engine):
        waiting = _in_background(bridge, deliveries)  # one leads and waits for the lock, the others queue
        deadline = time.monotonic() + 10
        while store.group_commit(engine).waiting < 5 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert store.group_commit(engine).waiting == 5  # the next commit will carry all five together
    results = waiting()
    assert isinstance(results[3], Exception) and "foreign key" in str(results[3]).lower()
    good = [r for r in results if isinstance(r, int)]
    assert len(good) == 4
    assert sorted(_resource_of_each_row(bridge).values()) == ["2000", "2001", "2002", "2004"]


def _in_background(bridge: Bridge, deliveries: list[dict[str, Any]]) -> Any:
    box: list[list[int | BaseException]] = []
    thread = threading.Thread(target=lambda: box.append(_store_at_once(bridge, deliveries)))
    thread.start()

    def results() -> list[int | BaseException]:
        thread.join(30)
        return box[0]

    return results
