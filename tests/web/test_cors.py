"""CORS per shop: one shop's origins open that shop's widget calls, never another shop's."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.support import woo
from tests.support.client import SHOP, WIDGET_SECRET, Bridge

SHOP_A_ORIGIN = "http://127.0.0.1:8080"  # shop1's own origin (its url), as in tests/conftest.py
SHOP_B = "shop2"
SHOP_B_ORIGIN = "https://b.example"


@pytest.fixture
def two_shops(make_bridge: Callable[..., Bridge]) -> Bridge:
    a = {
        "id": SHOP,
        "platform": "woocommerce",
        "url": SHOP_A_ORIGIN,
        "consumer_key": "ck_test",
        "consumer_secret": "cs_test",
        "webhook_secret": woo.SECRET,
        "widget_secret": WIDGET_SECRET,
        "currency": "USD",
    }
    b = {**a, "id": SHOP_B, "url": "http://127.0.0.1:8081", "allowed_origins": [SHOP_B_ORIGIN]}
    b["widget_secret"] = "widget-secret-of-shop-b-0123456789abcdef"
    return make_bridge(shops=[a, b], program={"referrals": {"enabled": True}})


def _token(bridge: Bridge, shop_id: str) -> str:
    from bridge.web.widget_auth import issue_token

    shop = bridge.rt.settings.shop(shop_id)
    assert shop is not None
    return issue_token(shop, "2", woo.CAROL, now=time.time())


def _allowed(response: Any) -> str | None:
    return response.headers.get("Access-Control-Allow-Origin")  # type: ignore[no-any-return]


def test_a_shops_token_is_answered_to_its_own_origin_only(two_shops: Bridge) -> None:
    auth = {"Authorization": f"Bearer {_token(two_shops, SHOP_B)}"}
    own = two_shops.client.get("/widget/v1/rewards", headers={**auth, "Origin": SHOP_B_ORIGIN})
    other = two_shops.client.get("/widget/v1/rewards", headers={**auth, "Origin": SHOP_A_ORIGIN})
    assert own.status_code == 200 and _allowed(own) == SHOP_B_ORIGIN
    assert other.status_code == 200 and _allowed(other) is None  # the browser keeps the answer from shop A's page


def test_a_write_with_another_shops_token_is_refused_before_anything_happens(two_shops: Bridge) -> None:
    auth = {"Authorization": f"Bearer {_token(two_shops, SHOP_B)}", "Idempotency-Key": "k-1"}
    body = {"reward_id": "nope"}
    refused = two_shops.client.post("/widget/v1/redemptions", json=body, headers={**auth, "Origin": SHOP_A_ORIGIN})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "origin_not_allowed"
    own = two_shops.client.post("/widget/v1/redemptions", json=body, headers={**auth, "Origin": SHOP_B_ORIGIN})
    assert own.status_code == 409 and own.get_json()["error"]["code"] == "insufficient_points"  # reached the view
    assert _allowed(own) == SHOP_B_ORIGIN


def test_a_referral_claim_is_checked_against_the_shop_named_in_its_body(two_shops: Bridge) -> None:
    body = {"shop": SHOP_B, "code": "NOSUCHCODE", "email": "dave@example.test"}
    refused = two_shops.client.post("/widget/v1/referrals/claim", json=body, headers={"Origin": SHOP_A_ORIGIN})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "origin_not_allowed"
    own = two_shops.client.post("/widget/v1/referrals/claim", json=body, headers={"Origin": SHOP_B_ORIGIN})
    assert own.get_json()["error"]["code"] == "referral_unknown_code" and _allowed(own) == SHOP_B_ORIGIN


def test_public_calls_follow_the_shop_parameter(two_shops: Bridge) -> None:
    club_b = two_shops.client.get("/widget/v1/club", query_string={"shop": SHOP_B}, headers={"Origin": SHOP_A_ORIGIN})
    assert club_b.status_code == 200 and _allowed(club_b) is None
    club_a = two_shops.client.get("/widget/v1/club", query_string={"shop": SHOP}, headers={"Origin": SHOP_A_ORIGIN})
    assert _allowed(club_a) == SHOP_A_ORIGIN


def test_preflights_and_assets_name_no_shop_and_answer_any_shops_origin(two_shops: Bridge) -> None:
    """A preflight carries no token: it grants nothing by itself; the actual request is checked per shop."""
    ask = {"Origin": SHOP_B_ORIGIN, "Access-Control-Request-Method": "POST"}
    preflight = two_shops.client.options("/widget/v1/redemptions", headers=ask)
    assert preflight.status_code == 204 and _allowed(preflight) == SHOP_B_ORIGIN
    narrowed = two_shops.client.options("/widget/v1/referral/offer", query_string={"shop": SHOP}, headers=ask)
    assert _allowed(narrowed) is None
    stranger = two_shops.client.options("/widget/v1/redemptions", headers={**ask, "Origin": "https://evil.example"})
    assert _allowed(stranger) is None
    script = two_shops.client.get("/widget/v1/i18n/en.json", headers={"Origin": SHOP_B_ORIGIN})
    assert _allowed(script) == SHOP_B_ORIGIN


def test_the_bridges_own_pages_are_not_cross_origin(two_shops: Bridge) -> None:
    """The demo page is served by the bridge itself: its writes carry the bridge's own origin."""
    auth = {"Authorization": f"Bearer {_token(two_shops, SHOP)}", "Idempotency-Key": "k-2"}
    own = two_shops.client.post(
        "/widget/v1/redemptions", json={"reward_id": "nope"}, headers={**auth, "Origin": "http://localhost"}
    )
    assert own.get_json()["error"]["code"] == "insufficient_points"  # reached the view
