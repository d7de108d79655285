"""``GET /widget/v1/panel`` renders a member's whole widget in one call; ``GET /widget/v1/club`` serves guests."""

from __future__ import annotations

from typing import Any

from bridge.web.widget_auth import issue_token
from tests.redemption.conftest import REWARDS
from tests.support import woo
from tests.support.client import SHOP, Bridge

CLUB = {"program": {"rewards": REWARDS, "earn": {"points_per_currency_unit": 20}}}


def _token(bridge: Bridge, customer_id: str = "2", email: str = woo.CAROL) -> str:
    shop = bridge.rt.settings.shop(SHOP)
    assert shop is not None
    return issue_token(shop, customer_id, email)


def _panel(bridge: Bridge, token: str) -> Any:
    return bridge.client.get("/widget/v1/panel", headers={"Authorization": f"Bearer {token}"})


def test_the_panel_shows_the_ledger_balance_history_and_rewards_of_the_member(make_bridge: Any) -> None:
    bridge = make_bridge(**CLUB)
    bridge.deliver_ok("customer.created")  # 50 points for joining
    bridge.deliver_ok("order.updated.processing-paid")  # 35.00 paid x 20 points
    bridge.drain()

    response = _panel(bridge, _token(bridge))

    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.get_json()
    assert body["member"] == {"joined": True, "available": 750, "pending": 0, "lifetime": 750, "pending_lots": []}
    assert body["club"] == {
        "name": "Test Club",
        "currency": "USD",
        "minor_unit": 2,
        "earn": {"points_per_currency_unit": "20", "signup_points": 50},
    }
    assert sorted((e["kind"], e["points"], e["cause_type"]) for e in body["history"]) == [
        ("earn", 50, "signup"),
        ("earn", 700, "order"),
    ]
    assert body["rewards"]["available"] == 750
    five_off = next(r for r in body["rewards"]["catalogue"] if r["id"] == "five-off")
    assert five_off["affordable"] is True
    ten_percent = next(r for r in body["rewards"]["catalogue"] if r["id"] == "ten-percent")
    assert ten_percent["points_needed"] == 50


def test_a_signed_in_customer_without_points_gets_an_empty_panel(make_bridge: Any) -> None:
    bridge = make_bridge(**CLUB)
    body = _panel(bridge, _token(bridge, "77", "new@example.test")).get_json()
    assert body["member"] == {"joined": False, "available": 0, "pending": 0, "lifetime": 0, "pending_lots": []}
    assert body["history"] == [] and body["rewards"]["mine"] == []


def test_each_pending_lot_says_when_it_becomes_available(make_bridge: Any) -> None:
    """A completed order: its completion + the hold; an order not completed yet: no date (it depends on it)."""
    bridge = make_bridge(program={**CLUB["program"], "earn": {"points_per_currency_unit": 20, "release": "after_hold"}})
    bridge.deliver_ok("order.updated.completed")  # order 12, 35.00 x 20, completed 2026-11-23 22:32:58 UTC
    bridge.send_ok(*woo.with_order_id("order.updated.processing-paid", 13))
    bridge.drain()

    member = _panel(bridge, _token(bridge)).get_json()["member"]

    assert member["pending"] == 1400
    assert member["pending_lots"] == [
        {"points": 700, "cause_type": "order", "cause_id": "12", "available_at": "2026-12-07T22:32:58+00:00"},
        {"points": 700, "cause_type": "order", "cause_id": "13", "available_at": None},
    ]


def test_the_panel_needs_a_token(bridge: Bridge) -> None:
    response = bridge.client.get("/widget/v1/panel")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "token_missing"


def test_the_club_offer_is_public_and_holds_no_member_data(make_bridge: Any) -> None:
    bridge = make_bridge(**CLUB)
    response = bridge.client.get("/widget/v1/club", query_string={"shop": SHOP})
    assert response.status_code == 200
    body = response.get_json()
    assert body["club"]["name"] == "Test Club" and body["club"]["earn"]["signup_points"] == 50
    ids = [r["id"] for r in body["rewards"]["catalogue"]]
    assert ids == [r["id"] for r in REWARDS]
    assert all("affordable" not in r for r in body["rewards"]["catalogue"])


def test_the_club_of_an_unknown_shop_is_404(bridge: Bridge) -> None:
    response = bridge.client.get("/widget/v1/club", query_string={"shop": "nope"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_shop"
