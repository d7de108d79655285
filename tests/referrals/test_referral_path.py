"""The whole path: link → click → claim → the friend's order → completion → hold → the referrer's reward."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import select

from bridge.runtime import use_runtime
from bridge.storage import db
from bridge.storage import tables as t
from bridge.sync.apply import apply_orders
from tests.referrals.conftest import FRIEND, Referrals
from tests.support import woo
from tests.support.client import SHOP
from tests.support.woo_rest import SHOP_URL


def test_click_claim_order_complete_hold_reward(referrals: Referrals) -> None:
    bridge = referrals.bridge
    code = referrals.carol_code()

    click = bridge.client.get(f"/r/{code.lower()}", headers={"User-Agent": "Mozilla/5.0 test"})
    assert click.status_code == 302 and click.headers["Location"] == f"{SHOP_URL}/?ref={code}"

    offer = bridge.client.get("/widget/v1/referral/offer", query_string={"code": code})
    assert offer.status_code == 200 and offer.get_json()["offer"]["title"] == "10 off your first order"

    claimed = referrals.claim(code)
    assert claimed.status_code == 201, claimed.get_data(as_text=True)
    coupon = claimed.get_json()["coupon"]
    in_shop = next(c for c in referrals.shop.coupons.values() if c["code"] == coupon["code"])
    assert in_shop["email_restrictions"] == [FRIEND] and in_shop["usage_limit"] == 1
    assert in_shop["amount"] == "10" and referrals.referral().state == "invited"

    referrals.order(500, coupon=coupon["code"], status="processing", modified="2026-11-24T10:00:00")
    assert referrals.referral().state == "ordered" and referrals.referral().order_id == "500"
    assert referrals.after_hold() == 0  # paid, but not completed: the hold has not started

    referrals.order(500, coupon=coupon["code"], status="completed", modified="2026-11-25T10:00:00")
    assert referrals.after_hold(days=10) == 0  # completed, still inside the 14-day hold
    assert bridge.available() == 35

    assert referrals.after_hold(days=30) == 1
    assert referrals.referral().state == "qualified"
    assert bridge.available() == 35 + 500
    assert bridge.available(FRIEND) == 35 + 100  # the friend's own order points and the friend bonus
    assert referrals.after_hold(days=30) == 0  # once

    mine = referrals.widget_get("/widget/v1/referral").get_json()
    assert mine["counts"] == {"clicks": 1, "invited": 1, "ordered": 1, "qualified": 1}
    assert mine["points_earned"] == 500 and mine["link"].endswith(f"/r/{code}")
    stats = bridge.admin("GET", "/admin/v1/referrals/stats").get_json()
    assert stats["funnel"] == {"clicks": 1, "claims": 1, "orders": 1, "qualified": 1}
    assert Decimal(stats["referred_revenue"]) == Decimal("42.90")
    assert stats["top_referrers"][0]["email"] == woo.CAROL


def test_an_order_without_the_coupon_is_attributed_by_the_friends_email(referrals: Referrals) -> None:
    code = referrals.carol_code()
    assert referrals.claim(code).status_code == 201
    referrals.order(501, email="  DAVE@example.test ", status="completed")
    assert referrals.referral().state == "ordered"
    assert referrals.after_hold(days=30) == 1


def test_a_friends_order_read_by_reconciliation_in_a_page_of_others_is_attributed(referrals: Referrals) -> None:
    """The delivery was lost: reconciliation reads the order with others and applies the page set-based."""
    code = referrals.carol_code()
    coupon = referrals.claim(code).get_json()["coupon"]["code"]
    others = [referrals.order_data(700 + i, email=f"guest{i}@example.test", status="completed") for i in range(4)]
    page = [*others[:2], referrals.order_data(502, coupon=coupon, status="completed"), *others[2:]]
    rt = referrals.rt
    with use_runtime(rt), db.write(rt.engine) as conn:
        assert apply_orders(conn, rt.shop_context(SHOP), page, source="reconcile") == {"missed": 5}
    assert referrals.referral().state == "ordered" and referrals.referral().order_id == "502"
    assert referrals.after_hold(days=30) == 1
    assert referrals.bridge.available() == 35 + 500


def test_clicks_are_stored_without_raw_personal_data(referrals: Referrals) -> None:
    code = referrals.carol_code()
    referrals.bridge.client.get(f"/r/{code}", headers={"User-Agent": "UniqueAgent/1.0"},
                                environ_base={"REMOTE_ADDR": "203.0.113.7"})  # fmt: skip
    with db.read(referrals.rt.engine) as conn:
        row = conn.execute(select(t.referral_click)).mappings().one()
    assert "203.0.113.7" not in str(dict(row)) and "UniqueAgent" not in str(dict(row))


def test_unknown_codes_redirect_to_the_shop_without_a_referral(referrals: Referrals) -> None:
    response = referrals.bridge.client.get("/r/NOPE1234")
    assert response.status_code == 302 and response.headers["Location"] == f"{SHOP_URL}/"
    unknown_shop = referrals.bridge.client.get(f"/r/{referrals.carol_code()}", query_string={"shop": "nope"})
    assert unknown_shop.status_code == 302 and unknown_shop.headers["Location"].startswith(f"{SHOP_URL}/?ref=")


def test_a_refund_before_qualification_rejects_the_referral(referrals: Referrals) -> None:
    code = referrals.carol_code()
    coupon = referrals.claim(code).get_json()["coupon"]["code"]
    referrals.order(502, coupon=coupon, status="completed", modified="2026-11-25T10:00:00")
    referrals.order(502, coupon=coupon, status="refunded", modified="2026-11-26T10:00:00",
                    refunds=[{"id": 90, "reason": "changed mind", "total": "-42.90"}])  # fmt: skip
    ref = referrals.referral()
    assert (ref.state, ref.reason) == ("rejected", "order_refunded")
    assert referrals.after_hold(days=30) == 0 and referrals.bridge.available() == 35


def test_a_cancellation_before_qualification_rejects_the_referral(referrals: Referrals) -> None:
    coupon = referrals.claim(referrals.carol_code()).get_json()["coupon"]["code"]
    referrals.order(503, coupon=coupon, status="processing")
    referrals.order(503, coupon=coupon, status="cancelled", modified="2026-11-26T10:00:00")
    assert (referrals.referral().state, referrals.referral().reason) == ("rejected", "order_cancelled")


def test_refunds_after_qualification_take_the_reward_back_like_order_points(referrals: Referrals) -> None:
    bridge = referrals.bridge
    coupon = referrals.claim(referrals.carol_code()).get_json()["coupon"]["code"]
    referrals.order(504, coupon=coupon, status="completed", modified="2026-11-25T10:00:00")
    assert referrals.after_hold(days=30) == 1 and bridge.available() == 535

    refund = [{"id": 91, "reason": "one item broken", "total": "-10.00"}]
    referrals.order(504, coupon=coupon, status="completed", modified="2026-12-20T10:00:00", refunds=refund)
    taken = int((Decimal(500) * Decimal("10.00") / Decimal("42.90")).to_integral_value(rounding=ROUND_FLOOR))
    carol_after_refund = 535 - taken
    assert bridge.available() == carol_after_refund
    referrals.order(504, coupon=coupon, status="completed", modified="2026-12-20T10:00:00", refunds=refund)
    assert bridge.available() == carol_after_refund  # the same refund twice takes nothing more

    referrals.order(504, coupon=coupon, status="cancelled", modified="2026-12-21T10:00:00", refunds=refund)
    assert bridge.available() == 35  # the rest of the referral reward is reversed; Carol keeps her own order's
    assert referrals.referral().state == "qualified"  # history: it did qualify, and was then taken back


def test_a_pending_reward_shows_during_the_hold_and_becomes_available(
    make_referrals: Callable[..., Referrals],
) -> None:
    referrals = make_referrals(pending_during_hold=True)
    bridge = referrals.bridge
    coupon = referrals.claim(referrals.carol_code()).get_json()["coupon"]["code"]
    referrals.order(520, coupon=coupon, status="completed", modified="2026-11-25T10:00:00")
    carol = bridge.balance()
    assert carol["pending"] - 500 >= 0 and bridge.balance()["available"] == carol["available"]
    pending_before = carol["pending"]

    assert referrals.after_hold(days=30) == 1

    after = bridge.balance()
    assert after["available"] == carol["available"] + 500 and after["pending"] == pending_before - 500


def test_a_pending_reward_is_withdrawn_when_the_order_is_refunded_in_the_hold(
    make_referrals: Callable[..., Referrals],
) -> None:
    referrals = make_referrals(pending_during_hold=True)
    bridge = referrals.bridge
    coupon = referrals.claim(referrals.carol_code()).get_json()["coupon"]["code"]
    before = bridge.balance()
    referrals.order(521, coupon=coupon, status="completed", modified="2026-11-25T10:00:00")
    assert bridge.balance()["pending"] == before["pending"] + 500
    referrals.order(521, coupon=coupon, status="refunded", modified="2026-11-26T10:00:00",
                    refunds=[{"id": 95, "reason": "returned", "total": "-42.90"}])  # fmt: skip
    assert bridge.balance() == before
    assert referrals.after_hold(days=30) == 0 and bridge.balance() == before


def test_links_and_landing_pages_are_configurable_per_shop(make_referrals: Callable[..., Referrals]) -> None:
    referrals = make_referrals(shops={"shop1": {"link_base": "https://club.example.test", "landing_path": "/join"}})
    code = referrals.carol_code()
    assert referrals.widget_get("/widget/v1/referral").get_json()["link"] == f"https://club.example.test/r/{code}"
    click = referrals.bridge.client.get(f"/r/{code}")
    assert click.headers["Location"] == f"{SHOP_URL}/join?ref={code}"
