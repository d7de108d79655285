"""The inbox's hot-path INSERT (``add_committed``) stores exactly what ``add`` stores, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bridge.storage import db
from bridge.storage import inbox as store
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from tests.integration.conftest import BOTH_BACKENDS
from tests.support import woo
from tests.support.client import SHOP, Bridge


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _delivery(bridge: Bridge, **changes: Any) -> dict[str, Any]:
    body = woo.raw_body("order.updated.completed")
    fields: dict[str, Any] = {
        "program_id": bridge.rt.settings.program.id,
        "shop_id": SHOP,
        "topic": "order.updated",
        "resource_id": "12",
        "platform_delivery_id": "delivery-1",
        "headers": {"X-Wc-Webhook-Topic": "order.updated", "Content-Type": "application/json"},
        "body": body,
        "now": utcnow(),
    }
    return fields | changes


def _rows(bridge: Bridge) -> list[dict[str, Any]]:
    with db.read(bridge.rt.engine) as conn:
        rows = conn.execute(select(t.inbox_delivery).order_by(t.inbox_delivery.c.id)).mappings()
        return [dict(row) for row in rows]


def test_add_committed_stores_the_same_row_as_add_and_returns_its_id(bridge: Bridge) -> None:
    fields = _delivery(bridge)
    with db.write(bridge.rt.engine) as conn:
        via_add = store.add(conn, **fields)
    via_raw = store.add_committed(bridge.rt.engine, **fields)

    first, second = _rows(bridge)
    assert (first["id"], second["id"]) == (via_add, via_raw)
    assert {k: v for k, v in first.items() if k != "id"} == {k: v for k, v in second.items() if k != "id"}
    assert second["state"] == store.PENDING and second["received_at"] == fields["now"]
    # the worker finds it due, like any other delivery
    with db.read(bridge.rt.engine) as conn:
        assert [d.id for d in store.due_batch(conn, SHOP, utcnow(), 10)] == [via_add, via_raw]


def test_a_failed_add_committed_stores_nothing_and_leaves_the_pool_usable(bridge: Bridge) -> None:
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        store.add_committed(bridge.rt.engine, **_delivery(bridge, shop_id="no-such-shop"))
    assert _rows(bridge) == []

    delivery_id = store.add_committed(bridge.rt.engine, **_delivery(bridge))
    assert [row["id"] for row in _rows(bridge)] == [delivery_id]
    with db.write(bridge.rt.engine) as conn:  # no transaction was left open on a pooled connection
        store.add(conn, **_delivery(bridge))
    assert len(_rows(bridge)) == 2
