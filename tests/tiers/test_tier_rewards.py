"""Rewards only some tiers may redeem (``rewards[].tiers``): refused with a clear 403 before anything is written,
redeemed once the member has the tier."""

from __future__ import annotations

from collections.abc import Callable

from bridge.redemption import service as redemptions
from bridge.storage import db
from tests.redemption.conftest import REWARDS, Club, seed_member, token_for
from tests.support.client import Bridge
from tests.support.woo_rest import FakeWooShop
from tests.tiers.conftest import LEVELS

GOLD_GIFT = {
    "id": "gold-gift",
    "title": "Gold gift",
    "type": "fixed_cart",
    "points": 100,
    "value": 5,
    "tiers": ["gold"],
}


def test_a_reward_for_another_tier_is_refused_with_403_and_writes_nothing(
    make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop
) -> None:
    bridge = make_bridge(program={"rewards": [*REWARDS, GOLD_GIFT], "tiers": {"levels": LEVELS}})
    club = Club(bridge, woo_shop, seed_member(bridge, 2000), token_for(bridge))

    refused = club.redeem("gold-gift")
    assert refused.status_code == 403
    assert refused.get_json()["error"] == {"code": "tier_required", "message": "Gold gift is for Gold members only"}
    assert club.available() == 2000 and club.shop.calls == []
    with db.read(bridge.rt.engine) as conn:
        assert redemptions.mine(conn, club.member_id) == []

    assert club.redeem("five-off").status_code == 201  # rewards for everyone stay open

    response = bridge.admin(
        "PUT",
        f"/admin/v1/members/{club.member_id}/tier-override",
        json={"tier": "gold", "until": "2027-06-01T00:00:00Z", "reason": "partner"},
    )
    assert response.status_code == 200
    redeemed = club.redeem("gold-gift")
    assert redeemed.status_code == 201, redeemed.get_json()
    assert club.available() == 2000 - 500 - 100


def test_the_catalogue_says_which_tiers_a_reward_is_for(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(program={"rewards": [GOLD_GIFT], "tiers": {"levels": LEVELS}})
    response = bridge.admin("GET", "/admin/v1/rewards")
    assert response.status_code == 200, response.get_json()
    [item] = response.get_json()["rewards"]
    assert item["tiers"] == ["gold"]
