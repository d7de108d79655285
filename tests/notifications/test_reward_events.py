"""Reward events: ``reward_issued`` in the transaction that marks the coupon issued, ``coupon_expiring`` once."""

from __future__ import annotations

from datetime import timedelta

from bridge.notifications import periodic
from tests.notifications.conftest import events
from tests.redemption.conftest import Club, club, make_club  # noqa: F401 (fixtures)


def test_a_redeemed_reward_writes_reward_issued_and_later_coupon_expiring_once(club: Club) -> None:  # noqa: F811
    response = club.redeem("five-off", key="click-1")
    assert response.status_code == 201, response.get_json()
    red = club.redemption(response.get_json()["redemption"]["id"])
    club.redeem("five-off", key="click-1")  # a replay: nothing new

    (issued,) = [e for e in events(club.bridge) if e["type"] == "reward_issued"]
    assert issued["member_id"] == club.member_id and issued["shop_id"] == "shop1"
    assert issued["payload"]["code"] == red.code and issued["payload"]["points"] == 500

    rt = club.bridge.rt
    assert periodic.coupons_expiring(rt, red.expires_at - timedelta(days=4)) == 0  # coupon_expiring_days: 3
    assert periodic.coupons_expiring(rt, red.expires_at - timedelta(days=2)) == 1
    assert periodic.coupons_expiring(rt, red.expires_at - timedelta(days=1)) == 0  # once
    (expiring,) = [e for e in events(club.bridge) if e["type"] == "coupon_expiring"]
    assert expiring["payload"]["code"] == red.code
