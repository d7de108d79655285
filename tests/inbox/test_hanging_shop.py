"""A hanging shop holds the drain, never the webhook intake (issue 12, section 3).

Seen on SQLite with a category rule: the drain held ``BEGIN IMMEDIATE`` while the product lookup waited 10 s for
the shop; webhooks waited for the lock and 22 of 60 deliveries were never stored. The shop here is a real
loopback server that does not answer (``tests/support/hanging_shop.py``); the drain runs in its own thread, as
a worker would, and the deliveries are posted while it waits. The timing (p99) is ``bench/hanging_shop.py``'s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bridge.jobs.drain import drain_inbox
from tests.conftest import base_config
from tests.support import woo
from tests.support.client import SHOP, Bridge
from tests.support.hanging_shop import HangingShop

COFFEE = [{"id": 15, "name": "Coffee", "slug": "coffee"}]  # product 10, the captured order's 35.00 line
DELIVERIES = 40
POINTS_PER_ORDER = 70  # 42.90 paid: 35.00 of coffee twice (the multiplier rule) and the rest once, rounded down


@pytest.fixture
def shop() -> Iterator[HangingShop]:
    with HangingShop({10: COFFEE}) as hanging:
        yield hanging


@pytest.fixture
def bridge_on(make_bridge: Callable[..., Bridge], tmp_path: Path, shop: HangingShop) -> Bridge:
    shop_config = {**base_config(tmp_path, "", "")["shops"][0], "url": shop.url}
    rule = {"id": "coffee2x", "type": "multiplier", "categories": ["coffee"], "multiplier": 2}
    return make_bridge(shops=[shop_config], program={"earn": {"signup_points": 0, "rules": [rule]}})


def test_deliveries_are_stored_while_the_drain_waits_for_a_hanging_shop(bridge_on: Bridge, shop: HangingShop) -> None:
    bridge = bridge_on
    bridge.send_ok(*woo.with_order_id("order.updated.processing-paid", 9000))
    drain = threading.Thread(target=_drain, args=(bridge,), name="drain")
    drain.start()
    try:
        assert shop.waiting.wait(10), "the drain never asked the shop for the product's categories"

        statuses = [
            bridge.post_webhook(*woo.with_order_id("order.updated.processing-paid", 9001 + i)).status_code
            for i in range(DELIVERIES - 1)
        ]

        # Every delivery was answered 200 and stored while the drain was still waiting for the shop: intake
        # never queued behind the drain (on SQLite it would have waited for the drain's write lock).
        assert statuses == [200] * (DELIVERIES - 1)
        assert shop.holding == 1 and drain.is_alive()
        assert bridge.inbox_count("pending") == DELIVERIES
    finally:
        shop.release()  # the held lookup is answered 503, every later one with the categories
        drain.join(30)
    assert not drain.is_alive()

    # The order the shop failed for was retried, not lost or earned without its categories; all the others applied.
    assert bridge.inbox_count("done") == DELIVERIES and bridge.inbox_count("failed") == 0
    assert bridge.available() == DELIVERIES * POINTS_PER_ORDER
    rows = bridge.admin("GET", "/admin/v1/inbox", query_string={"limit": 100}).get_json()["deliveries"]
    attempts = {row["resource_id"]: row["attempts"] for row in rows}
    assert attempts.pop("9000") == 2  # deferred once while the shop hung, applied at the retry
    assert set(attempts.values()) == {1}


def _drain(bridge: Bridge) -> None:
    with bridge.app.app_context():
        drain_inbox(SHOP)
