"""Tiers in the widget (issue 16): a member sees their tier, the way to the next one and its benefits."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

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
