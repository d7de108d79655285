"""Who may claim a friend's welcome coupon, and every reason a claim or a referral is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.redemption.conftest import seed_member
from tests.referrals.conftest import FRIEND, Referrals
from tests.support import woo


def _refused(response: Any, reason: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == f"referral_{reason}"


def test_the_referrer_cannot_refer_themselves_under_another_spelling(referrals: Referrals) -> None:
    code = referrals.carol_code()
    _refused(referrals.claim(code, email=woo.CAROL.upper()), "self")
    assert not referrals.shop.coupons and referrals.referral_count() == 0


def test_gmail_dots_and_plus_tags_are_one_person(referrals: Referrals) -> None:
    member = seed_member(referrals.bridge, 0, customer_id="40", email="john.doe@gmail.com")
    assert member
    code = referrals.widget_get("/widget/v1/referral", customer_id="40", email="john.doe@gmail.com").get_json()["code"]
    _refused(referrals.claim(code, email="JohnDoe+deals@googlemail.com"), "self")


def test_an_existing_customer_in_our_records_is_refused(referrals: Referrals) -> None:
    code = referrals.carol_code()
    referrals.order(600, email="eve@example.test", status="completed")  # Eve bought before anyone referred her
    _refused(referrals.claim(code, email="eve@example.test"), "existing_customer")


def test_an_existing_customer_known_only_to_the_shop_is_refused(referrals: Referrals) -> None:
    referrals.shop.put_order(77, email="frank@example.test", status="completed", created="2024-03-01T10:00:00")
    _refused(referrals.claim(referrals.carol_code(), email="frank@example.test"), "existing_customer")


def test_when_the_shop_cannot_tell_the_claim_waits(referrals: Referrals) -> None:
    referrals.shop.fail_next("GET", "orders", status=503)
    response = referrals.claim(referrals.carol_code(), email="gina@example.test")
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "referral_check_unavailable"
    assert referrals.referral_count() == 0
    assert referrals.claim(referrals.carol_code(), email="gina@example.test").status_code == 201


def test_a_friend_is_referred_once(referrals: Referrals, make_bridge: Any) -> None:
    carol = referrals.carol_code()
    seed_member(referrals.bridge, 0, customer_id="41", email="hank@example.test")
    hank = referrals.widget_get("/widget/v1/referral", customer_id="41", email="hank@example.test").get_json()["code"]
    first = referrals.claim(carol)
    again = referrals.claim(carol)
    other = referrals.claim(hank)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["coupon"]["code"] == first.get_json()["coupon"]["code"]
    _refused(other, "already_referred")
    assert len(referrals.shop.coupons) == 1


def test_the_referrer_monthly_cap_counts_friends_who_ordered(make_referrals: Callable[..., Referrals]) -> None:
    """The cap limits what referrals cost the shop: a referral counts once its friend placed a paid order."""
    referrals = make_referrals(referrer_monthly_cap=2)
    code = referrals.carol_code()
    friends = [f"f{i}@example.test" for i in range(3)]
    coupons = [referrals.claim(code, email=friend).get_json()["coupon"]["code"] for friend in friends]
    for i, (friend, coupon) in enumerate(zip(friends, coupons, strict=True)):  # all three were invited
        referrals.order(620 + i, email=friend, coupon=coupon, status="completed")
    outcome = [(referrals.referral(f).state, referrals.referral(f).reason) for f in friends]
    assert outcome == [("ordered", ""), ("ordered", ""), ("rejected", "referrer_cap")]
    _refused(referrals.claim(code, email="f9@example.test"), "referrer_cap")  # the link brought its two this month
    assert referrals.after_hold(days=30) == 2
    assert referrals.bridge.available() == 35 + 2 * 500


def test_made_up_claims_do_not_use_up_the_referrers_cap(make_referrals: Callable[..., Referrals]) -> None:
    """The code is public: anyone can claim with made-up e-mails. None of those takes a real friend's place."""
    referrals = make_referrals(referrer_monthly_cap=2, claims_per_ip_per_hour=100)
    code = referrals.carol_code()
    for i in range(2):  # the shop hangs: these stay `claiming`
        referrals.shop.fail_next("POST", "coupons", timeout=True)
        assert referrals.claim(code, email=f"stuck{i}@example.test").status_code == 409
    for i in range(10):  # the shop answers: these are `invited`, each with a coupon nobody will use
        assert referrals.claim(code, email=f"made-up-{i}@example.test").status_code == 201
    assert referrals.referral("stuck0@example.test").state == "claiming"
    real = referrals.claim(code)
    assert real.status_code == 201, real.get_data(as_text=True)
    referrals.order(630, coupon=real.get_json()["coupon"]["code"], status="completed")
    assert referrals.referral().state == "ordered"
    assert referrals.after_hold(days=30) == 1


def test_unknown_codes_bad_input_and_a_disabled_program(referrals: Referrals, make_bridge: Any) -> None:
    _refused(referrals.claim("NOSUCHCODE"), "unknown_code")
    bad = referrals.claim(referrals.carol_code(), email="not-an-email")
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "validation_failed"
    assert referrals.bridge.client.post("/widget/v1/referrals/claim", data="x").status_code == 400
    off = make_bridge()
    response = off.client.post("/widget/v1/referrals/claim", json={"code": "ABCDEFGH", "email": FRIEND})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "referrals_disabled"


def test_claims_are_rate_limited_per_ip(make_referrals: Callable[..., Referrals]) -> None:
    referrals = make_referrals(claims_per_ip_per_hour=3)
    code = referrals.carol_code()
    statuses = [referrals.claim(code, email=f"r{i}@example.test").status_code for i in range(4)]
    assert statuses == [201, 201, 201, 429]


def test_the_friends_order_with_the_referrers_account_is_rejected(referrals: Referrals) -> None:
    coupon = referrals.claim(referrals.carol_code()).get_json()["coupon"]["code"]
    referrals.order(610, coupon=coupon, customer_id=2, status="completed")  # logged in as Carol (customer 2)
    assert (referrals.referral().state, referrals.referral().reason) == ("rejected", "self_customer")
    assert referrals.after_hold(days=30) == 0


def test_the_friends_order_with_the_referrers_phone_is_rejected(referrals: Referrals) -> None:
    coupon = referrals.claim(referrals.carol_code()).get_json()["coupon"]["code"]
    referrals.order(611, coupon=coupon, phone="(555) 0199", status="completed")  # Carol's phone, other e-mail
    assert (referrals.referral().state, referrals.referral().reason) == ("rejected", "self_contact")


def test_the_friends_order_to_the_referrers_address_is_rejected(referrals: Referrals) -> None:
    coupon = referrals.claim(referrals.carol_code()).get_json()["coupon"]["code"]
    referrals.order(612, coupon=coupon, address="3  OAK Ave", status="completed")
    assert (referrals.referral().state, referrals.referral().reason) == ("rejected", "self_contact")


def test_an_order_below_the_minimum_does_not_qualify(make_referrals: Callable[..., Referrals]) -> None:
    referrals = make_referrals(min_order_amount=100)
    coupon = referrals.claim(referrals.carol_code()).get_json()["coupon"]["code"]
    referrals.order(613, coupon=coupon, status="completed")  # 42.90
    assert (referrals.referral().state, referrals.referral().reason) == ("rejected", "below_minimum")


def test_rejections_are_listed_and_counted_for_the_owner(referrals: Referrals) -> None:
    coupon = referrals.claim(referrals.carol_code()).get_json()["coupon"]["code"]
    referrals.order(614, coupon=coupon, customer_id=2, status="completed")
    listed = referrals.bridge.admin("GET", "/admin/v1/referrals", query_string={"state": "rejected"}).get_json()
    assert [(r["friend_email"], r["reason"]) for r in listed["referrals"]] == [(FRIEND, "self_customer")]
    stats = referrals.bridge.admin("GET", "/admin/v1/referrals/stats").get_json()
    assert stats["rejections"] == {"self_customer": 1}
    assert referrals.bridge.client.get("/admin/v1/referrals").status_code == 401


def test_an_approved_vanity_code_works_and_cannot_be_taken_twice(referrals: Referrals) -> None:
    bridge = referrals.bridge
    carol = bridge.member(woo.CAROL)
    assert carol is not None
    approved = bridge.admin("PUT", f"/admin/v1/members/{carol['id']}/referral-code", json={"code": "carol-loves-tea"})
    assert approved.status_code == 200 and approved.get_json()["code"] == "CAROL-LOVES-TEA"
    assert referrals.carol_code() == "CAROL-LOVES-TEA"
    assert referrals.claim("Carol-Loves-Tea").status_code == 201
    other = seed_member(bridge, 0, customer_id="42", email="ivy@example.test")
    taken = bridge.admin("PUT", f"/admin/v1/members/{other}/referral-code", json={"code": "CAROL-LOVES-TEA"})
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "referral_code_taken"
    bad = bridge.admin("PUT", f"/admin/v1/members/{other}/referral-code", json={"code": "no spaces!"})
    assert bad.status_code == 422 and referrals.carol_code() == "CAROL-LOVES-TEA"
