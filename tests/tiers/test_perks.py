"""Recurring tier perks (issue 16): a gold member's free-shipping coupon, made by the bridge once per period.

The real pipeline: the ``tiers.perks`` job reserves, the RQ worker's finishing job creates the coupon in the shop's
REST API (faked with ``responses`` from the captured coupon payloads), the ledger never moves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bridge.redemption import jobs as redemption_jobs
from bridge.storage import db
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from bridge.tiers.perks import run_perks
from bridge.web.widget_auth import issue_token
from tests.integration.conftest import BOTH_BACKENDS
from tests.redemption.conftest import seed_member
from tests.support import woo
from tests.support.client import SHOP, Bridge
from tests.support.woo_rest import FakeWooShop
from tests.tiers.conftest import clock_at

LEVELS = [
    {"id": "silver", "name": "Silver", "threshold": 30},
    {"id": "gold", "name": "Gold", "threshold": 60, "perks": [{"id": "ship", "type": "free_shipping"}]},
    {"id": "platinum", "name": "Platinum", "threshold": 1000, "perks": [{"id": "yearly", "period": "year"}]},
]
DANA = "dana@example.com"


@pytest.fixture
def club(make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop) -> Callable[..., Bridge]:
    def build(shop_timeout_seconds: float = 5, **program: Any) -> Bridge:
        redemption = {"inline_wait_seconds": 2, "shop_timeout_seconds": shop_timeout_seconds}
        return make_bridge(program={"tiers": {"levels": LEVELS}, "redemption": redemption, **program})

    return build


def give_tier(bridge: Bridge, member_id: int, tier: str) -> None:
    """The owner's override: the quickest way to a tier that stays put (perks follow ``tier_id`` either way)."""
    response = bridge.admin(
        "PUT",
        f"/admin/v1/members/{member_id}/tier-override",
        json={"tier": tier, "until": "2028-06-01T00:00:00Z", "reason": "test"},
    )
    assert response.status_code == 200, response.get_json()


def perk_rows(bridge: Bridge) -> list[dict[str, Any]]:
    r = t.redemption.c
    with db.read(bridge.rt.engine) as conn:
        rows = conn.execute(select(t.redemption).where(r.channel == "perk").order_by(r.id)).mappings()
        return [dict(row) for row in rows]


def ledger_count(bridge: Bridge) -> int:
    with db.read(bridge.rt.engine) as conn:
        return int(conn.scalar(select(func.count()).select_from(t.ledger_entry)) or 0)


def run(bridge: Bridge, now: datetime | None = None) -> int:
    """One run of the periodic job, then the worker finishes the coupons it handed over."""
    reserved = run_perks(bridge.rt, now or utcnow())["reserved"]
    bridge.drain()
    return reserved


@pytest.mark.parametrize("backend", BOTH_BACKENDS)
def test_a_gold_member_gets_one_free_shipping_coupon_per_month_and_no_points_move(
    club: Callable[..., Bridge], woo_shop: FakeWooShop, backend: str
) -> None:
    bridge = club()
    carol = seed_member(bridge, 250)
    give_tier(bridge, carol, "gold")
    entries = ledger_count(bridge)

    assert run(bridge) == 1
    [coupon] = woo_shop.coupons.values()
    assert coupon["free_shipping"] is True and coupon["amount"] == "0" and coupon["discount_type"] == "fixed_cart"
    assert coupon["email_restrictions"] == [woo.CAROL] and coupon["usage_limit"] == 1
    assert coupon["date_expires_gmt"] == "2026-11-30T23:59:59"  # the end of November, the perk's period
    [perk] = perk_rows(bridge)
    assert perk["state"] == "issued" and perk["points"] == 0 and perk["code"] == coupon["code"]
    assert perk["request_key"] == "perk:gold:ship:2026-11" and perk["member_id"] == carol

    for _ in range(3):  # the job runs every quarter of an hour: nothing more this month
        assert run(bridge) == 0
    assert len(woo_shop.coupons) == 1

    with clock_at(datetime(2026, 12, 1, 0, 5, tzinfo=UTC)):  # a new month: a new coupon, once
        assert run(bridge) == 1
        assert run(bridge) == 0
    assert [p["request_key"] for p in perk_rows(bridge)] == ["perk:gold:ship:2026-11", "perk:gold:ship:2026-12"]
    assert len(woo_shop.coupons) == 2
    assert ledger_count(bridge) == entries and bridge.available() == 250  # no ledger entry, not even of 0


def test_periods_follow_the_program_time_zone(club: Callable[..., Bridge], woo_shop: FakeWooShop) -> None:
    bridge = club(timezone="Asia/Tehran")  # UTC+03:30
    carol = seed_member(bridge, 0)
    give_tier(bridge, carol, "gold")
    with clock_at(datetime(2026, 11, 30, 20, 0, tzinfo=UTC)):  # 23:30 on 30 November in Tehran
        assert run(bridge) == 1
    with clock_at(datetime(2026, 11, 30, 21, 0, tzinfo=UTC)):  # 00:30 on 1 December in Tehran: December's perk
        assert run(bridge) == 1
    november, december = perk_rows(bridge)
    assert november["request_key"].endswith(":2026-11") and december["request_key"].endswith(":2026-12")
    assert november["expires_at"] == datetime(2026, 11, 30, 20, 29, 59, tzinfo=UTC)  # before midnight in Tehran


def test_only_members_at_a_level_with_perks_get_them_and_a_downgrade_keeps_issued_coupons(
    club: Callable[..., Bridge], woo_shop: FakeWooShop
) -> None:
    bridge = club()
    carol = seed_member(bridge, 0)
    dana = seed_member(bridge, 0, customer_id="3", email=DANA)
    seed_member(bridge, 0, customer_id="4", email="erin@example.com")  # no tier at all
    give_tier(bridge, carol, "gold")
    give_tier(bridge, dana, "silver")  # silver has no perk

    assert run(bridge) == 1
    [perk] = perk_rows(bridge)
    assert perk["member_id"] == carol

    give_tier(bridge, carol, "silver")  # downgraded: no further perks, the issued coupon stays
    with clock_at(datetime(2026, 12, 2, 9, tzinfo=UTC)):
        assert run(bridge) == 0
    [perk] = perk_rows(bridge)
    assert perk["state"] == "issued" and len(woo_shop.coupons) == 1

    give_tier(bridge, dana, "platinum")  # a yearly perk, at once
    with clock_at(datetime(2026, 12, 2, 10, tzinfo=UTC)):
        assert run(bridge) == 1
    assert perk_rows(bridge)[-1]["request_key"] == "perk:platinum:yearly:2026"
    assert perk_rows(bridge)[-1]["expires_at"] == datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_a_member_who_reaches_gold_mid_month_gets_the_perk_at_the_next_run(
    club: Callable[..., Bridge], woo_shop: FakeWooShop
) -> None:
    bridge = club(earn={"signup_points": 0})
    for order_id in (501, 502):  # 35 points each: gold at 60, through the real order pipeline
        bridge.send_ok(*woo.with_order_id("order.updated.processing-paid", order_id))
        bridge.drain()
    member = bridge.member(woo.CAROL)
    assert member is not None and member["tier"]["id"] == "gold"
    assert run(bridge) == 1
    assert perk_rows(bridge)[0]["member_id"] == member["id"]


def test_a_failing_shop_is_retried_and_the_coupon_is_never_doubled(
    club: Callable[..., Bridge], woo_shop: FakeWooShop
) -> None:
    bridge = club()
    give_tier(bridge, seed_member(bridge, 0), "gold")
    woo_shop.fail_next("POST", "coupons", status=500)  # the first try fails
    woo_shop.fail_next("POST", "coupons", lose_response=True)  # the second creates it, its answer is lost

    assert run(bridge) == 1
    [perk] = perk_rows(bridge)
    assert perk["state"] == "issued" and perk["attempts"] >= 1
    assert len(woo_shop.coupons) == 1  # the lost answer's coupon was found under its code and adopted
    assert run(bridge) == 0 and len(woo_shop.coupons) == 1


def test_a_shop_down_for_the_whole_run_leaves_the_perk_to_the_recovery_sweep(
    club: Callable[..., Bridge], woo_shop: FakeWooShop
) -> None:
    bridge = club(shop_timeout_seconds=1)  # the finishing job gives up its round after a second
    give_tier(bridge, seed_member(bridge, 0), "gold")
    for _ in range(40):  # every try of the finishing job fails
        woo_shop.fail_next("POST", "coupons", status=503)
    assert run_perks(bridge.rt, utcnow())["reserved"] == 1
    bridge.drain()
    [perk] = perk_rows(bridge)
    assert perk["state"] == "reserved" and perk["attempts"] >= 1 and woo_shop.coupons == {}
    woo_shop.faults.clear()  # the shop is back

    assert run(bridge) == 0  # the job does not reserve the period's perk again
    with clock_at(datetime(2026, 11, 26, 14, tzinfo=UTC)):  # past the backoff: the sweep finishes it
        redemption_jobs.run_recover(bridge.rt, utcnow())
    [perk] = perk_rows(bridge)
    assert perk["state"] == "issued" and len(woo_shop.coupons) == 1


@pytest.mark.parametrize("backend", BOTH_BACKENDS)
def test_a_perk_the_shop_refused_is_tried_again_hours_later_a_bounded_number_of_times(
    club: Callable[..., Bridge], woo_shop: FakeWooShop, backend: str
) -> None:
    bridge = club()
    give_tier(bridge, seed_member(bridge, 100), "gold")
    refused = {"code": "woocommerce_rest_invalid_coupon", "message": "Invalid coupon."}
    woo_shop.fail_next("POST", "coupons", status=400, body=refused)
    assert run(bridge) == 1
    [perk] = perk_rows(bridge)
    assert perk["state"] == "failed" and woo_shop.coupons == {}
    assert run(bridge) == 0  # not again at once: the owner has time to fix the shop

    with clock_at(datetime(2026, 11, 26, 19, tzinfo=UTC)):  # seven hours later
        woo_shop.fail_next("POST", "coupons", status=400, body=refused)
        assert run(bridge) == 1
    with clock_at(datetime(2026, 11, 27, 2, tzinfo=UTC)):
        assert run(bridge) == 1  # the third and last try of the month works
        assert run(bridge) == 0
    with clock_at(datetime(2026, 11, 28, 2, tzinfo=UTC)):
        assert run(bridge) == 0  # one live perk coupon per period, never two
    keys = [(p["request_key"], p["state"]) for p in perk_rows(bridge)]
    assert keys == [
        ("perk:gold:ship:2026-11", "failed"),
        ("perk:gold:ship:2026-11#2", "failed"),
        ("perk:gold:ship:2026-11#3", "issued"),
    ]
    assert len(woo_shop.coupons) == 1 and bridge.available() == 100  # a failed perk gives back nothing


def test_after_three_failed_tries_the_period_has_no_more(club: Callable[..., Bridge], woo_shop: FakeWooShop) -> None:
    bridge = club()
    give_tier(bridge, seed_member(bridge, 0), "gold")
    refused = {"code": "woocommerce_rest_invalid_coupon", "message": "Invalid coupon."}
    for moment in (datetime(2026, 11, 26, 12, 30), datetime(2026, 11, 26, 19), datetime(2026, 11, 27, 2)):
        with clock_at(moment.replace(tzinfo=UTC)):  # each try 6+ hours after the last failure
            woo_shop.fail_next("POST", "coupons", status=400, body=refused)
            assert run(bridge) == 1
    with clock_at(datetime(2026, 11, 28, 12, tzinfo=UTC)):
        assert run(bridge) == 0
    with clock_at(datetime(2026, 12, 1, 12, tzinfo=UTC)):  # December: a new period, a new perk
        assert run(bridge) == 1
    assert [p["state"] for p in perk_rows(bridge)] == ["failed", "failed", "failed", "issued"]


def test_the_member_sees_the_perk_code_in_the_widget_and_the_owner_in_the_tier_endpoint(
    club: Callable[..., Bridge], woo_shop: FakeWooShop
) -> None:
    bridge = club()
    carol = seed_member(bridge, 0)
    give_tier(bridge, carol, "gold")
    run(bridge)
    [coupon] = woo_shop.coupons.values()

    shop = bridge.rt.settings.shop(SHOP)
    assert shop is not None
    token = issue_token(shop, "2", woo.CAROL)
    response = bridge.client.get(
        "/widget/v1/panel", query_string={"shop": SHOP}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.get_json()
    panel = response.get_json()
    [shown] = panel["tier"]["perk_coupons"]
    assert shown["code"] == coupon["code"] and shown["perk"] == "ship" and shown["period"] == "2026-11"
    assert shown["tier"] == "gold" and shown["state"] == "issued" and shown["type"] == "free_shipping"
    [listed] = [r for r in panel["rewards"]["mine"] if r["code"] == coupon["code"]]  # with the shopper's rewards
    assert listed["points"] == 0 and "perk" in listed["message"]

    response = bridge.admin("GET", f"/admin/v1/members/{carol}/tiers")
    assert response.status_code == 200
    [owner_view] = response.get_json()["perk_coupons"]
    assert owner_view["code"] == coupon["code"] and owner_view["shop_id"] == SHOP


def test_no_perk_job_without_perks(make_bridge: Callable[..., Bridge]) -> None:
    from bridge.jobs.schedule import PERIODIC

    [job] = [j for j in PERIODIC if j.name == "tiers.perks"]
    assert job.interval_seconds(make_bridge(program={"tiers": {"levels": LEVELS[:1]}}).rt) == 0
    assert job.interval_seconds(make_bridge(program={"tiers": {"levels": LEVELS}}).rt) > 0
