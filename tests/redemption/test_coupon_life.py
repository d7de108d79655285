"""A coupon's life through real order deliveries: used, released, refunded; and the daily expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bridge.redemption.jobs import run_expire
from bridge.storage.clock import utcnow
from tests.integration.conftest import BOTH_BACKENDS
from tests.redemption.conftest import Club
from tests.support import woo


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _deliver_order(club: Club, name: str, code: str, **changes: Any) -> None:
    """A captured order 12 delivery, with our coupon code in its coupon_lines (as the shop would send it)."""
    data = woo.payload(name)
    for line in data["coupon_lines"]:
        line["code"] = code
    data.update(changes)
    body, headers = woo.signed(name, data)
    club.bridge.send_ok(body, headers)
    club.bridge.drain()


def _redeem(club: Club) -> dict[str, Any]:
    response = club.redeem("five-off")
    assert response.status_code == 201
    red: dict[str, Any] = response.get_json()["redemption"]
    return red


def test_an_order_with_the_code_marks_it_used_and_earns_on_what_was_paid(club: Club) -> None:
    red = _redeem(club)
    assert club.available() == 1500

    _deliver_order(club, "order.updated.processing-paid", red["code"])

    stored = club.redemption(red["id"])
    assert stored.state == "used" and stored.order_id == "12"
    # 2 x 20.00 less the 5.00 coupon: the line totals after discount, 35.00 -> 35 points (not 40)
    assert club.available() == 1535
    assert club.widget("DELETE", f"/widget/v1/redemptions/{red['id']}").status_code == 409


def test_a_cancelled_order_releases_the_coupon_again(club: Club) -> None:
    red = _redeem(club)
    _deliver_order(club, "order.updated.after-create", red["code"])  # pending: the shop counts the use already
    assert club.redemption(red["id"]).state == "used"

    _deliver_order(
        club, "order.updated.after-create", red["code"], status="cancelled", date_modified_gmt="2026-11-23T23:00:00"
    )

    stored = club.redemption(red["id"])
    assert stored.state == "issued" and stored.order_id is None
    assert club.available() == 1500  # the points stay spent: the coupon is usable again


def test_refunds_return_spent_points_pro_rata_when_the_program_says_so(make_club: Any) -> None:
    club = make_club(refund_returns_points=True)
    red = _redeem(club)
    _deliver_order(club, "order.updated.processing-paid", red["code"])
    assert club.available() == 1535

    _deliver_order(club, "order.updated.partial-refund", red["code"])
    # earned back: floor(35 * 10 / 42.90) = 8 taken; spent returned: floor(500 * 10 / 42.90) = 116
    assert club.available() == 1535 - 8 + 116
    _deliver_order(club, "order.updated.fully-refunded", red["code"])
    assert club.available() == 2000  # everything earned taken back, everything spent returned
    _deliver_order(club, "order.updated.fully-refunded", red["code"])  # a duplicate changes nothing
    assert club.available() == 2000
    returns = [e for e in club.entries() if e["kind"] == "spend" and e["points"] > 0]
    assert sorted((e["idempotency_key"], e["points"]) for e in returns) == [
        (f"club:redeem:{red['id']}:refund:13", 116),
        (f"club:redeem:{red['id']}:refund:14", 384),
    ]


def test_refunds_keep_the_spent_points_by_default(club: Club) -> None:
    red = _redeem(club)
    _deliver_order(club, "order.updated.processing-paid", red["code"])
    _deliver_order(club, "order.updated.fully-refunded", red["code"])
    assert club.available() == 1500


def test_an_expired_unused_coupon_is_deleted_in_the_shop_and_its_points_return(club: Club) -> None:
    red = _redeem(club)
    stored = club.redemption(red["id"])
    club.shop.calls.clear()

    assert run_expire(club.bridge.rt, utcnow()) == {"expired": 0, "in_use": 0, "shop_busy": 0}
    outcome = run_expire(club.bridge.rt, stored.expires_at + timedelta(seconds=1))

    assert outcome == {"expired": 1, "in_use": 0, "shop_busy": 0}
    assert club.shop.calls == [("GET", f"coupons/{stored.coupon_id}"), ("DELETE", f"coupons/{stored.coupon_id}")]
    assert club.shop.coupons == {} and club.redemption(red["id"]).state == "expired"
    assert club.available() == 2000
    assert run_expire(club.bridge.rt, stored.expires_at + timedelta(days=1))["expired"] == 0
    assert club.available() == 2000


def test_expiry_keeps_the_points_when_the_policy_says_so_and_skips_coupons_in_use(make_club: Any) -> None:
    club = make_club(return_points_on_expiry=False)
    kept, in_use = _redeem(club), _redeem(club)
    next(c for c in club.shop.coupons.values() if c["code"] == in_use["code"])["usage_count"] = 1
    later = club.redemption(kept["id"]).expires_at + timedelta(seconds=1)

    assert run_expire(club.bridge.rt, later) == {"expired": 1, "in_use": 1, "shop_busy": 0}
    assert club.redemption(kept["id"]).state == "expired"
    assert club.redemption(in_use["id"]).state == "issued"
    assert club.available() == 1000
