"""Redeeming through the widget API against the shop's REST model: one debit, one coupon, or the points back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import responses

from bridge.connectors.woocommerce.api import REDEMPTION_META_KEY
from bridge.redemption import issuer
from bridge.redemption import service as redemptions
from bridge.redemption.codes import ALPHABET
from bridge.storage import db
from bridge.storage.clock import utcnow
from tests.redemption.conftest import Club, club_config, seed_member, token_for
from tests.support import woo
from tests.support.client import SHOP
from tests.support.woo_rest import FakeWooShop


def _only_coupon(club: Club) -> dict[str, Any]:
    assert len(club.shop.coupons) == 1, club.shop.coupons
    return next(iter(club.shop.coupons.values()))


def test_redeem_debits_once_and_creates_one_single_use_coupon_locked_to_the_member(club: Club) -> None:
    response = club.redeem("five-off", key="click-1")

    assert response.status_code == 201, response.get_json()
    body = response.get_json()["redemption"]
    assert body["state"] == "issued" and body["reward_id"] == "five-off"
    assert body["points"] == 500 and body["value"] == "5.00"
    code = body["code"]
    assert len(code) == 12 and set(code) <= set(ALPHABET)
    assert club.available() == 1500
    assert club.shop.calls == [("POST", "coupons")]

    coupon = _only_coupon(club)
    red = club.redemption(body["id"])
    assert coupon["code"] == code
    assert coupon["discount_type"] == "fixed_cart" and coupon["amount"] == "5.00"
    assert coupon["usage_limit"] == 1 and coupon["usage_limit_per_user"] == 1
    assert coupon["email_restrictions"] == [woo.CAROL]
    assert coupon["individual_use"] is True and coupon["free_shipping"] is False
    assert coupon["minimum_amount"] == "10.00"
    assert coupon["date_expires_gmt"] == red.expires_at.strftime("%Y-%m-%dT%H:%M:%S")
    assert red.expires_at - red.created_at > timedelta(days=29, hours=23)
    assert [(m["key"], m["value"]) for m in coupon["meta_data"]] == [(REDEMPTION_META_KEY, f"club:{red.id}")]
    assert red.coupon_id == str(coupon["id"]) and red.state == "issued"

    spends = [e for e in club.entries() if e["kind"] == "spend"]
    assert [(e["points"], e["idempotency_key"], e["cause_type"], e["cause_id"]) for e in spends] == [
        (-500, f"club:redeem:{red.id}", "redemption", str(red.id))
    ]


def test_the_same_idempotency_key_returns_the_same_redemption(club: Club) -> None:
    first = club.redeem("five-off", key="k-1")
    again = club.redeem("five-off", key="k-1")

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert club.available() == 1500
    assert len(club.shop.coupons) == 1 and club.shop.calls == [("POST", "coupons")]


def test_a_reused_key_for_another_reward_is_refused(club: Club) -> None:
    assert club.redeem("five-off", key="k-1").status_code == 201
    response = club.redeem("free-ship", key="k-1")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_conflict"
    assert club.available() == 1500


def test_too_few_points_is_409_and_writes_nothing(make_club: Any) -> None:
    club = make_club(points=499)
    response = club.redeem("five-off")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "insufficient_points"
    assert club.available() == 499
    assert club.shop.calls == []
    with db.read(club.bridge.rt.engine) as conn:
        assert redemptions.mine(conn, club.member_id) == []


def test_a_timeout_is_retried_after_looking_the_code_up(club: Club) -> None:
    club.shop.fail_next("POST", "coupons", timeout=True)
    response = club.redeem("five-off")
    assert response.status_code == 201, response.get_json()
    assert club.shop.calls == [("POST", "coupons"), ("GET", "coupons"), ("POST", "coupons")]
    assert len(club.shop.coupons) == 1
    assert club.redemption(response.get_json()["redemption"]["id"]).attempts == 1


def test_a_server_error_is_retried(club: Club) -> None:
    club.shop.fail_next("POST", "coupons", status=500)
    response = club.redeem("five-off")
    assert response.status_code == 201
    assert club.shop.calls == [("POST", "coupons"), ("GET", "coupons"), ("POST", "coupons")]
    assert len(club.shop.coupons) == 1


def test_a_coupon_whose_answer_was_lost_is_adopted_not_created_twice(club: Club) -> None:
    club.shop.fail_next("POST", "coupons", lose_response=True)
    response = club.redeem("five-off")
    assert response.status_code == 201
    assert club.shop.calls == [("POST", "coupons"), ("GET", "coupons")]
    coupon = _only_coupon(club)
    assert response.get_json()["redemption"]["code"] == coupon["code"]
    assert club.redemption(response.get_json()["redemption"]["id"]).coupon_id == str(coupon["id"])
    assert club.available() == 1500


def test_bad_shop_keys_compensate_and_say_the_points_are_back(club: Club) -> None:
    club.shop.consumer_secret = "rotated-in-the-shop"
    response = club.redeem("five-off")

    assert response.status_code == 502
    error = response.get_json()["error"]
    assert error["code"] == "redemption_failed"
    assert "500 points are back" in error["message"]
    assert error["redemption"]["state"] == "failed" and error["redemption"]["code"] is None
    assert club.available() == 2000
    assert club.shop.coupons == {} and club.shop.calls == [("POST", "coupons")]
    red = club.redemption(error["redemption"]["id"])
    assert red.state == "failed" and red.failure_reason and "401" in red.failure_reason
    assert "cs_test" not in red.failure_reason and "rotated" not in red.failure_reason
    spend, back = [e for e in club.entries() if e["kind"] == "spend"]
    assert (spend["points"], back["points"]) == (-500, 500)
    assert back["reverses_entry_id"] == spend["id"] and back["idempotency_key"] == f"club:redeem:{red.id}:return"


def test_an_invalid_coupon_is_compensated(club: Club) -> None:
    club.shop.fail_next(
        "POST", "coupons", status=400, body={"code": "rest_invalid_param", "message": "Invalid parameter(s): amount"}
    )
    response = club.redeem("five-off")
    assert response.status_code == 502
    assert club.available() == 2000 and club.shop.coupons == {}
    assert club.shop.calls == [("POST", "coupons")]


def test_a_failed_redemption_replays_as_failed_and_a_new_key_tries_again(club: Club) -> None:
    club.shop.fail_next("POST", "coupons", status=400, body={"code": "rest_invalid_param", "message": "amount"})
    failed = club.redeem("five-off", key="k-1")
    replay = club.redeem("five-off", key="k-1")
    assert failed.status_code == replay.status_code == 502
    assert replay.get_json()["error"]["redemption"]["id"] == failed.get_json()["error"]["redemption"]["id"]
    assert club.redeem("five-off", key="k-2").status_code == 201
    assert club.available() == 1500


def test_a_code_the_shop_holds_for_another_coupon_is_replaced(club: Club) -> None:
    rt = club.bridge.rt
    shop = rt.settings.shop(SHOP)
    assert shop is not None
    with db.write(rt.engine) as conn:
        red, _ = redemptions.reserve(
            conn,
            rt,
            shop=shop,
            member_id=club.member_id,
            reward_id="five-off",
            points=None,
            request_key="k",
            channel="widget",
            actor="",
            now=utcnow(),
        )
    club.shop.coupons[1] = {"id": 1, "code": red.code, "meta_data": [], "usage_count": 0}

    issued = issuer.issue(rt, red.id, wait_seconds=1, fresh=True)

    assert issued.state == "issued" and issued.code != red.code
    assert club.shop.calls == [("POST", "coupons"), ("GET", "coupons"), ("POST", "coupons")]
    assert sorted(c["code"] for c in club.shop.coupons.values()) == sorted([red.code, issued.code])


def test_past_the_inline_wait_the_answer_is_202_and_a_worker_finishes_it(make_club: Any) -> None:
    club = make_club(inline_wait_seconds=0.1)
    club.shop.fail_next("POST", "coupons", timeout=True)

    response = club.redeem("five-off")

    assert response.status_code == 202
    body = response.get_json()["redemption"]
    assert body["state"] == "reserved" and body["code"] is None
    assert club.available() == 1500  # the points are held while the coupon is made
    club.bridge.drain()  # the real RQ worker runs the finishing job
    polled = club.widget("GET", f"/widget/v1/redemptions/{body['id']}").get_json()["redemption"]
    assert polled["state"] == "issued" and polled["code"] == _only_coupon(club)["code"]
    assert club.shop.calls == [("POST", "coupons"), ("GET", "coupons"), ("POST", "coupons")]


def test_the_job_keeps_retrying_and_looks_the_code_up_before_every_create(make_club: Any) -> None:
    club = make_club(inline_wait_seconds=0.1)
    club.shop.fail_next("POST", "coupons", status=503)
    club.shop.fail_next("GET", "coupons", timeout=True)
    club.shop.fail_next("POST", "coupons", status=503)

    response = club.redeem("five-off")
    assert response.status_code == 202
    club.bridge.drain()

    red = club.redemption(response.get_json()["redemption"]["id"])
    assert red.state == "issued" and red.attempts == 3
    assert club.shop.calls == [
        ("POST", "coupons"),  # 503 (inline)
        ("GET", "coupons"),  # timeout (job)
        ("GET", "coupons"),  # not there
        ("POST", "coupons"),  # 503
        ("GET", "coupons"),  # still not there
        ("POST", "coupons"),  # 201
    ]
    assert len(club.shop.coupons) == 1 and club.available() == 1500


def test_a_duplicate_code_that_is_our_own_coupon_is_adopted(club: Club) -> None:
    rt = club.bridge.rt
    shop = rt.settings.shop(SHOP)
    assert shop is not None
    with db.write(rt.engine) as conn:
        red, _ = redemptions.reserve(
            conn,
            rt,
            shop=shop,
            member_id=club.member_id,
            reward_id="five-off",
            points=None,
            request_key="k",
            channel="widget",
            actor="",
            now=utcnow(),
        )
    ours = {
        "id": 7,
        "code": red.code,
        "usage_count": 0,
        "meta_data": [{"key": REDEMPTION_META_KEY, "value": red.reference}],
    }
    club.shop.coupons[7] = ours

    issued = issuer.issue(rt, red.id, wait_seconds=1, fresh=True)

    assert issued.state == "issued" and issued.coupon_id == "7" and issued.code == red.code
    assert club.shop.calls == [("POST", "coupons"), ("GET", "coupons")]
    assert list(club.shop.coupons) == [7]


def test_a_shop_that_answers_but_keeps_failing_past_the_give_up_time_gets_the_points_back(make_club: Any) -> None:
    club = make_club(inline_wait_seconds=0.1, give_up_after_seconds=0)
    club.shop.fail_next("POST", "coupons", status=503)

    response = club.redeem("five-off")
    assert response.status_code == 202  # the first failure never gives up: nobody has looked the code up yet
    club.bridge.drain()

    red = club.redemption(response.get_json()["redemption"]["id"])
    assert red.state == "failed" and "no coupon after 0 s" in (red.failure_reason or "")
    # past the give-up time the code is only looked up: no coupon of ours, so nothing more is created
    assert club.shop.calls == [("POST", "coupons"), ("GET", "coupons")]
    assert club.shop.coupons == {} and club.available() == 2000


class _PhpNoticeShop(FakeWooShop):
    """Creates the first coupon, then garbles the answer the way a PHP notice printed before the JSON does."""

    garbled = False

    def _dispatch(self, request: Any) -> Any:
        status, headers, body = super()._dispatch(request)
        if status == 201 and not self.garbled:
            self.garbled = True
            return status, headers, "<br />\n<b>Notice</b>: Undefined index in functions.php<br />\n" + body
        return status, headers, body


def test_an_unreadable_answer_is_not_taken_for_a_refusal(make_bridge: Any) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        shop = _PhpNoticeShop(rsps).install()
        bridge = make_bridge(**club_config())
        club = Club(bridge, shop, seed_member(bridge, 2000), token_for(bridge))

        response = club.redeem("five-off")

        assert response.status_code == 201  # looked up after the garbled 201, and adopted
        assert shop.calls == [("POST", "coupons"), ("GET", "coupons")]
        assert len(shop.coupons) == 1 and club.available() == 1500
