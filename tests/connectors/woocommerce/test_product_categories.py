"""The product-category cache in front of the shop's REST API: bounded, time-limited, failures not cached."""

from __future__ import annotations

import pytest

from bridge.connectors.woocommerce.api import ShopUnavailable, WooClient
from bridge.connectors.woocommerce.catalog import ProductCategories
from tests.support.woo_rest import SHOP_URL, FakeWooShop


@pytest.fixture
def client() -> WooClient:
    return WooClient(SHOP_URL, "ck_test", "cs_test")


def test_categories_are_cached_bounded_and_refreshed(woo_shop: FakeWooShop, client: WooClient) -> None:
    now = [0.0]
    for pid in (1, 2, 3):
        woo_shop.products[pid] = {"id": pid, "categories": [{"id": 10 + pid, "slug": f"Cat-{pid}"}]}
    cache = ProductCategories(client, max_entries=2, ttl_seconds=60, clock=lambda: now[0])
    assert cache("1") == ("cat-1", "11")
    assert cache("1") == ("cat-1", "11")
    assert woo_shop.calls_to("GET", r"products/1") == 1
    cache("2")
    cache("3")  # evicts 1, the least recently used
    cache("1")
    assert woo_shop.calls_to("GET", r"products/1") == 2
    now[0] = 61.0
    cache("1")  # expired: read again
    assert woo_shop.calls_to("GET", r"products/1") == 3
    cache.forget("1")
    cache("1")
    assert woo_shop.calls_to("GET", r"products/1") == 4


def test_an_unknown_product_has_no_categories_and_a_failing_shop_raises(
    woo_shop: FakeWooShop, client: WooClient
) -> None:
    cache = ProductCategories(client)
    assert cache("404") == ()
    woo_shop.products[5] = {"id": 5, "categories": []}
    woo_shop.fail_next("GET", r"products/5", status=503)
    with pytest.raises(ShopUnavailable):
        cache("5")
    assert cache("5") == ()  # the failure was not cached
