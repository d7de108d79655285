"""The catalogue, reward types, limits, cancelling, and the admin side of redemption."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bridge.storage import db
from bridge.storage import tables as t
from bridge.web import widget_panel
from bridge.web.widget_auth import Shopper
from tests.redemption.conftest import Club, seed_member, token_for
from tests.support.client import ADMIN_KEY


def _coupon(club: Club, code: str) -> dict[str, Any]:
    return next(c for c in club.shop.coupons.values() if c["code"] == code)


def test_widget_rewards_lists_what_the_member_can_afford_first_then_what_is_next(make_club: Any) -> None:
    club = make_club(points=400)
    response = club.widget("GET", "/widget/v1/rewards")
    assert response.status_code == 200
    body = response.get_json()
    assert body["available"] == 400 and body["mine"] == []
    summary = [(r["id"], r["affordable"], r["points_needed"]) for r in body["catalogue"]]
    assert summary == [
        ("any-amount", True, 0),  # equal cost: configuration order
        ("monthly", True, 0),
        ("free-ship", True, 0),
        ("five-off", False, 100),
        ("ten-percent", False, 400),
    ]
    five = next(r for r in body["catalogue"] if r["id"] == "five-off")
    assert five["points_cost"] == 500 and five["value"] == "5.00" and five["type"] == "fixed_cart"
    variable = next(r for r in body["catalogue"] if r["id"] == "any-amount")
    assert (variable["min_points"], variable["max_points"], variable["step"]) == (100, 2000, 100)


def test_panel_section_rewards_has_catalogue_and_mine(club: Club) -> None:
    issued = club.redeem("five-off").get_json()["redemption"]
    rt = club.bridge.rt
    with club.bridge.app.app_context(), db.read(rt.engine) as conn:
        shopper = Shopper("shop1", "2", "carol1795473173@example.test")
        panel = widget_panel.render(widget_panel.PanelRequest(rt, conn, shopper, club.member_id, "en"))
    section = panel["rewards"]
    assert [m["id"] for m in section["mine"]] == [issued["id"]]
    assert set(section["mine"][0]) >= {"id", "reward_id", "title", "state", "code", "points", "expires_at", "value"}
    assert {"id", "title", "description", "type", "value", "affordable", "points_needed"} <= set(
        section["catalogue"][0]
    )


def test_percent_and_free_shipping_rewards_make_the_right_coupons(club: Club) -> None:
    percent = club.redeem("ten-percent").get_json()["redemption"]
    ship = club.redeem("free-ship").get_json()["redemption"]
    p, s = _coupon(club, percent["code"]), _coupon(club, ship["code"])
    assert (p["discount_type"], p["amount"], p["individual_use"], p["free_shipping"]) == ("percent", "10", False, False)
    assert (s["discount_type"], s["amount"], s["free_shipping"], s["product_categories"]) == (
        "fixed_cart",
        "0",
        True,
        [15],
    )
    assert ship["value"] is None
    assert club.available() == 2000 - 800 - 300


def test_variable_reward_spends_a_multiple_of_its_step(club: Club) -> None:
    response = club.redeem("any-amount", points=300)
    assert response.status_code == 201
    body = response.get_json()["redemption"]
    assert (body["points"], body["value"]) == (300, "3.00")
    assert _coupon(club, body["code"])["amount"] == "3.00"
    for bad in (250, 50, 2100):
        refused = club.redeem("any-amount", points=bad)
        assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "invalid_points"
    missing = club.redeem("any-amount")
    assert missing.status_code == 422
    assert club.redeem("five-off", points=400).status_code == 422  # fixed rewards have a fixed price
    assert club.available() == 1700


def test_the_per_member_limit_holds_per_period(club: Club) -> None:
    assert club.redeem("monthly").status_code == 201
    assert club.redeem("monthly").status_code == 201
    third = club.redeem("monthly")
    assert third.status_code == 409 and third.get_json()["error"]["code"] == "reward_limit_reached"
    assert club.available() == 1800


def test_bad_requests_are_refused_without_a_debit(club: Club) -> None:
    no_key = club.widget("POST", "/widget/v1/redemptions", json={"reward_id": "five-off"})
    assert no_key.status_code == 400 and no_key.get_json()["error"]["code"] == "idempotency_key_required"
    unknown = club.redeem("gold-bar")
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "reward_not_found"
    extra = club.widget("POST", "/widget/v1/redemptions", key="x", json={"reward_id": "five-off", "member": 9})
    assert extra.status_code == 422
    anonymous = club.bridge.client.post("/widget/v1/redemptions", json={"reward_id": "five-off"})
    assert anonymous.status_code == 401
    assert club.available() == 2000 and club.shop.calls == []


def test_a_shopper_who_never_joined_has_no_points(club: Club) -> None:
    stranger = token_for(club.bridge, customer_id="77", email="nobody@example.test")
    response = club.widget("POST", "/widget/v1/redemptions", key="k", token=stranger, json={"reward_id": "five-off"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "insufficient_points"


def test_a_shopper_sees_and_cancels_only_their_own_redemptions(club: Club) -> None:
    mine = club.redeem("five-off").get_json()["redemption"]
    seed_member(club.bridge, 100, customer_id="9", email="dan@example.test")
    dan = token_for(club.bridge, customer_id="9", email="dan@example.test")
    assert club.widget("GET", f"/widget/v1/redemptions/{mine['id']}", token=dan).status_code == 404
    assert club.widget("DELETE", f"/widget/v1/redemptions/{mine['id']}", token=dan).status_code == 404
    assert club.widget("GET", f"/widget/v1/redemptions/{mine['id']}").get_json()["redemption"] == mine


def test_cancel_deletes_the_coupon_in_the_shop_first_then_returns_the_points(club: Club) -> None:
    issued = club.redeem("five-off").get_json()["redemption"]
    coupon_id = _coupon(club, issued["code"])["id"]
    club.shop.calls.clear()

    response = club.widget("DELETE", f"/widget/v1/redemptions/{issued['id']}")

    assert response.status_code == 200
    assert response.get_json()["redemption"]["state"] == "cancelled"
    assert "500 points are back" in response.get_json()["redemption"]["message"]
    assert club.shop.calls == [("GET", f"coupons/{coupon_id}"), ("DELETE", f"coupons/{coupon_id}")]
    assert club.shop.coupons == {} and club.available() == 2000
    again = club.widget("DELETE", f"/widget/v1/redemptions/{issued['id']}")
    assert again.status_code == 200 and club.available() == 2000
    back = [e for e in club.entries() if e["kind"] == "spend" and e["points"] > 0]
    assert len(back) == 1 and back[0]["idempotency_key"] == f"club:redeem:{issued['id']}:return"


def test_cancel_while_the_shop_is_down_changes_nothing(club: Club) -> None:
    issued = club.redeem("five-off").get_json()["redemption"]
    club.shop.fail_next("GET", r"coupons/\d+", timeout=True)
    response = club.widget("DELETE", f"/widget/v1/redemptions/{issued['id']}")
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "shop_unavailable"
    assert response.headers["Retry-After"] == "30"
    assert club.redemption(issued["id"]).state == "issued" and club.available() == 1500
    assert len(club.shop.coupons) == 1


def test_a_coupon_already_in_an_order_cannot_be_cancelled(club: Club) -> None:
    issued = club.redeem("five-off").get_json()["redemption"]
    _coupon(club, issued["code"])["usage_count"] = 1  # the shop counted an order's use
    response = club.widget("DELETE", f"/widget/v1/redemptions/{issued['id']}")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "redemption_not_cancellable"
    assert club.available() == 1500 and len(club.shop.coupons) == 1


def test_admin_lists_rewards_and_redeems_and_cancels_for_a_member_with_an_audit_trail(club: Club) -> None:
    admin = club.bridge.admin
    rewards = admin("GET", "/admin/v1/rewards").get_json()["rewards"]
    assert [r["id"] for r in rewards] == ["five-off", "ten-percent", "free-ship", "any-amount", "monthly"]
    assert rewards[-1]["limit"] == {"count": 2, "period_days": 30}
    assert "affordable" not in rewards[0]

    path = f"/admin/v1/members/{club.member_id}/redemptions"
    created = admin("POST", path, json={"reward_id": "five-off"}, headers={"Idempotency-Key": "ticket-42"})
    assert created.status_code == 201
    red = created.get_json()["redemption"]
    assert red["channel"] == "admin" and red["actor"].startswith("api-key:") and red["coupon_id"]
    replay = admin("POST", path, json={"reward_id": "five-off"}, headers={"Idempotency-Key": "ticket-42"})
    assert replay.get_json()["redemption"]["id"] == red["id"]

    listed = admin("GET", "/admin/v1/redemptions", query_string={"member": club.member_id}).get_json()
    assert [r["id"] for r in listed["redemptions"]] == [red["id"]]
    cancelled = admin("POST", f"/admin/v1/redemptions/{red['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["redemption"]["state"] == "cancelled"
    assert club.available() == 2000
    with db.read(club.bridge.rt.engine) as conn:
        actions = [r.action for r in conn.execute(select(t.audit_log.c.action).order_by(t.audit_log.c.id))]
    assert actions[-2:] == ["redemption.create", "redemption.cancel"]
    assert club.bridge.client.get("/admin/v1/redemptions").status_code == 401
    assert (
        club.bridge.client.get("/admin/v1/rewards", headers={"Authorization": f"Bearer {ADMIN_KEY}x"}).status_code
        == 401
    )
