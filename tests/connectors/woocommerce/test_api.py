"""The REST client against the shop model: auth as the real shop checks it, and our own errors for its failures."""

from __future__ import annotations

import pytest

from bridge.connectors.woocommerce.api import (
    DuplicateCouponCode,
    ShopAuthFailed,
    ShopNotFound,
    ShopUnavailable,
    WooClient,
)
from tests.support import woo_rest
from tests.support.woo_rest import FakeWooShop

COUPON = {"code": "Loyal-ABC123xyz", "amount": "5.00", "discount_type": "fixed_cart", "usage_limit": 1}


def client(base_url: str = woo_rest.SHOP_URL, secret: str = woo_rest.CONSUMER_SECRET) -> WooClient:
    return WooClient(base_url, woo_rest.CONSUMER_KEY, secret, timeout=2)


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8080", "https://shop.example.test"])
def test_creates_finds_and_deletes_a_coupon_over_http_oauth_and_https_basic(
    woo_shop: FakeWooShop, base_url: str
) -> None:
    woo_shop.base_url = base_url
    woo_shop.rsps.reset()
    woo_shop.install()
    api = client(base_url)
    created = api.create_coupon({**COUPON, "meta_data": [{"key": "_loyalty_redemption_id", "value": "7"}]})
    assert created["code"] == "loyal-abc123xyz"  # stored lower-cased, like the real shop
    assert created["meta_data"][0]["value"] == "7"
    assert api.find_coupon_by_code("LOYAL-abc123XYZ")["id"] == created["id"]
    api.delete_coupon(created["id"])
    assert api.find_coupon_by_code("loyal-abc123xyz") is None


def test_wrong_keys_are_an_auth_failure_without_the_secret_in_the_message(woo_shop: FakeWooShop) -> None:
    with pytest.raises(ShopAuthFailed) as caught:
        client(secret="cs_wrong_secret_value").create_coupon(COUPON)
    assert caught.value.http_status == 401
    assert caught.value.shop_code == "woocommerce_rest_authentication_error"
    assert "cs_wrong_secret_value" not in str(caught.value)
    assert woo_shop.coupons == {}


def test_duplicate_code_is_its_own_error(woo_shop: FakeWooShop) -> None:
    api = client()
    api.create_coupon(COUPON)
    with pytest.raises(DuplicateCouponCode):
        api.create_coupon({**COUPON, "code": COUPON["code"].upper()})


def test_timeouts_and_5xx_are_transient(woo_shop: FakeWooShop) -> None:
    api = client()
    woo_shop.fail_next("POST", "coupons", timeout=True)
    with pytest.raises(ShopUnavailable):
        api.create_coupon(COUPON)
    woo_shop.fail_next("POST", "coupons", status=502)
    with pytest.raises(ShopUnavailable):
        api.create_coupon(COUPON)
    assert woo_shop.coupons == {}


def test_a_lost_response_still_created_the_coupon_and_a_lookup_finds_it(woo_shop: FakeWooShop) -> None:
    api = client()
    woo_shop.fail_next("POST", "coupons", lose_response=True)
    with pytest.raises(ShopUnavailable):
        api.create_coupon(COUPON)
    assert api.find_coupon_by_code(COUPON["code"]) is not None


def test_unknown_coupon_is_not_found(woo_shop: FakeWooShop) -> None:
    with pytest.raises(ShopNotFound):
        client().get_coupon(999)


def test_caller_params_are_never_mutated_and_keys_stay_out_of_repr(woo_shop: FakeWooShop) -> None:
    api = client()
    params = {"code": "x"}
    api.request("GET", "coupons", params=params)
    assert params == {"code": "x"}
    assert woo_rest.CONSUMER_SECRET not in repr(api)


def test_over_http_every_query_value_is_signed_as_the_shop_checks_it(woo_shop: FakeWooShop) -> None:
    """Values that need percent-encoding (a timestamp's colons, spaces, '+', non-ASCII) sign and verify alike."""
    assert woo_rest.SHOP_URL.startswith("http://")
    api = client()
    created = api.create_coupon({**COUPON, "code": "été+ 2026:a"})
    assert api.find_coupon_by_code("été+ 2026:a")["id"] == created["id"]
    assert api.get("coupons", modified_after="2026-11-30T12:00:00", per_page=5) != []
    sent = woo_shop.rsps.calls[-1].request.url
    assert "oauth_signature_method=HMAC-SHA256" in sent and "oauth_signature=" in sent
    assert woo_rest.CONSUMER_SECRET not in sent  # one-legged: the secret only keys the HMAC
