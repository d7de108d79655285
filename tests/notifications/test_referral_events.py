"""Referral events: the referrer hears that a friend joined (the claim), then that the referral qualified."""

from __future__ import annotations

from tests.notifications.conftest import events
from tests.redemption.conftest import threadsafe_shop  # noqa: F401 (a fixture the referral fixtures use)
from tests.referrals.conftest import Referrals, make_referrals, referrals  # noqa: F401 (fixtures)
from tests.support import woo


def test_friend_joined_then_qualified_each_once(referrals: Referrals) -> None:  # noqa: F811
    bridge = referrals.bridge
    code = referrals.carol_code()
    claimed = referrals.claim(code)
    assert claimed.status_code == 201, claimed.get_data(as_text=True)
    coupon = claimed.get_json()["coupon"]["code"]
    referrals.order(500, coupon=coupon, status="completed", modified="2026-11-25T10:00:00")
    assert referrals.after_hold(days=30) == 1
    assert referrals.after_hold(days=31) == 0

    carol = bridge.member(woo.CAROL)
    assert carol is not None
    found = [(e["type"], e["member_id"], e["payload"]) for e in events(bridge) if e["type"].startswith("referral")]
    ref_id = referrals.referral().id
    assert found == [
        ("referral_friend_joined", carol["id"], {"referral_id": ref_id}),
        ("referral_qualified", carol["id"], {"referral_id": ref_id, "points": 500}),
    ]
