"""Tiers in the widget (issue 16): a member sees their tier, the way to the next one and its benefits."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from bridge.storage.clock import utcnow
from bridge.tiers.perks import run_perks
from tests.widgets.conftest import Env, Shopper

TIERS = {
    "metric": "points",
    "window": "calendar_year",
    "levels": [
        {"id": "silver", "name": {"en": "Silver", "fa": "نقره‌ای"}, "threshold": 500, "perks": [{"id": "ship"}]},
        {"id": "gold", "name": "Gold", "threshold": 1000, "multiplier": 1.5},
    ],
}


def test_a_member_sees_the_tier_progress_and_benefits(make_env: Callable[..., Env], shopper: Shopper) -> None:
    env = make_env(program={"tiers": TIERS})
    env.seed_through_webhooks()  # 750 points: silver
    shopper.goto(env.page("/", member=True))
    shopper.open()

    tier = shopper.panel.locator("[data-lb=tier]")
    expect(tier).to_contain_text("Silver member")
    expect(tier).to_contain_text("Earn 250 more points by Dec 31, 2026 to reach Gold")
    expect(tier).to_contain_text("A free-shipping coupon every month")
    expect(tier.get_by_role("progressbar", name="Progress towards Gold")).to_have_attribute("value", "750")
    shopper.shot("member-tier")
    assert shopper.script_errors() == [] and shopper.foreign_requests() == []


def test_a_member_sees_and_copies_the_perk_coupon_of_the_month(make_env: Callable[..., Env], shopper: Shopper) -> None:
    env = make_env(program={"tiers": TIERS})
    env.seed_through_webhooks()  # 750 points: silver, whose perk is a free-shipping coupon every month
    assert run_perks(env.bridge.rt, utcnow())["reserved"] == 1
    env.bridge.drain()  # the worker makes the coupon in the shop
    [coupon] = env.woo.coupons.values()

    shopper.goto(env.page("/", member=True))
    shopper.open()
    coupons = shopper.panel.locator("[data-lb=perk-coupons]")
    expect(coupons).to_contain_text("Your free-shipping coupon")
    expect(coupons).to_contain_text(coupon["code"])
    copy = coupons.get_by_role("button", name="Copy the code for Your free-shipping coupon")
    copy.click()
    expect(copy).to_have_text("Copied!")
    assert shopper.clipboard() == coupon["code"]
    shopper.shot("member-tier-perk")
    assert shopper.script_errors() == [] and shopper.foreign_requests() == []
