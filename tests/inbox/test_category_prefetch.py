"""The drain fetches its batch's product categories before its write transaction (issue 12, section 3).

What the rules read is the same as when the lookup ran inside the write: a ``product.updated`` in the batch is
seen by the batch's orders, and a shop that fails defers its orders to a retry instead of earning without
categories. ``tests/inbox/test_hanging_shop.py`` shows why: a shop that hangs must not hold the write lock.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.support import woo
from tests.support.client import Bridge
from tests.support.woo_rest import FakeWooShop

COFFEE = [{"id": 15, "name": "Coffee", "slug": "coffee"}]
TEA = [{"id": 16, "name": "Tea", "slug": "tea"}]
POINTS_PER_ORDER = 70  # 42.90 paid: 35.00 of coffee twice (the multiplier rule) and the rest once
RULE = {"id": "coffee2x", "type": "multiplier", "categories": ["coffee"], "multiplier": 2}


def test_a_failing_shop_is_asked_once_per_batch_and_its_orders_are_retried(
    make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop
) -> None:
    woo_shop.products[10] = {"id": 10, "categories": COFFEE}
    woo_shop.products[11] = {"id": 11, "categories": COFFEE}
    bridge = make_bridge(program={"earn": {"signup_points": 0, "rules": [RULE]}})
    line = woo.payload("order.updated.processing-paid")["line_items"][0]
    bridge.send_ok(*woo.with_order_id("order.updated.processing-paid", 9000))
    bridge.send_ok(*woo.with_order_id("order.updated.processing-paid", 9001, line_items=[{**line, "product_id": 11}]))
    woo_shop.fail_next("GET", r"products/10", status=503)

    bridge.drain()

    # The batch's first lookup failed: product 11 was not asked for in that batch (a hanging shop would have cost
    # a timeout per product); both orders waited for the retry, which fetched both.
    assert woo_shop.calls == [("GET", "products/10"), ("GET", "products/10"), ("GET", "products/11")]
    assert bridge.inbox_count("done") == 2
    assert bridge.available() == 2 * POINTS_PER_ORDER


def test_a_product_updated_in_the_same_batch_is_read_fresh_by_the_batchs_orders(
    make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop
) -> None:
    woo_shop.products[10] = {"id": 10, "categories": TEA}
    bridge = make_bridge(program={"earn": {"signup_points": 0, "rules": [RULE]}})
    bridge.send_ok(*woo.with_order_id("order.updated.processing-paid", 9000))
    bridge.drain()
    assert bridge.available() == 35  # tea: once (and now cached as tea)

    woo_shop.products[10] = {"id": 10, "categories": COFFEE}
    body, headers = woo.signed("order.updated.processing-paid", woo_shop.products[10])
    headers |= {"X-WC-Webhook-Topic": "product.updated", "X-WC-Webhook-Resource": "product"}
    bridge.send_ok(body, headers)
    bridge.send_ok(*woo.with_order_id("order.updated.processing-paid", 9001))
    bridge.drain()  # one batch: the product update, then the order

    assert bridge.available() == 35 + POINTS_PER_ORDER
    assert woo_shop.calls_to("GET", r"products/10") == 2
