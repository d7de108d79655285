"""The widget tells the truth about redeeming: no Redeem where the shop cannot make coupons, and points that are
set aside show as spent at once, even while the shop is slow to make the coupon."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import expect

from tests.support.client import Bridge
from tests.support.woo_rest import FakeWooShop
from tests.widgets.conftest import Env, Shopper, club_config
from tests.widgets.servers import ServedApp, ShopSite


def _env(make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop, site: tuple[ShopSite, ServedApp], **shop: str
         ) -> Iterator[Env]:  # fmt: skip
    shop_site, shop_served = site
    config = club_config(shop_served.url)
    config["shops"][0].update(shop)
    config["program"]["redemption"]["inline_wait_seconds"] = 0.1  # a slow shop leaves the redemption to a worker
    bridge = make_bridge(**config)
    served = ServedApp(bridge.app)
    yield Env(bridge, served, shop_site, shop_served.url, woo_shop)
    served.stop()


@pytest.fixture
def demo_env(
    make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop, site: tuple[ShopSite, ServedApp]
) -> Iterator[Env]:
    """Like the demo: the shop delivers webhooks but has no REST API keys."""
    yield from _env(make_bridge, woo_shop, site, consumer_key="", consumer_secret="")


@pytest.fixture
def slow_env(
    make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop, site: tuple[ShopSite, ServedApp]
) -> Iterator[Env]:
    yield from _env(make_bridge, woo_shop, site)


def test_a_shop_that_cannot_make_coupons_shows_a_note_instead_of_redeem(demo_env: Env, shopper: Shopper) -> None:
    demo_env.seed_through_webhooks()
    shopper.goto(demo_env.page("/", member=True))
    shopper.open()

    expect(shopper.panel.locator("#lb-tab")).to_contain_text("5.00 off your order")
    expect(shopper.panel.get_by_role("note")).to_have_text("Rewards can't be redeemed in this shop yet.")
    expect(shopper.panel.get_by_role("button", name=re.compile(r"^Redeem"))).to_have_count(0)
    expect(shopper.panel.locator("button.btn:not(.alt)")).to_have_count(0)  # no action button in the list at all
    assert shopper.script_errors() == []


def test_points_set_aside_for_a_slow_coupon_leave_the_balance_at_once(slow_env: Env, shopper: Shopper) -> None:
    env = slow_env
    env.seed_through_webhooks()
    env.woo.fail_next("POST", "coupons", timeout=True)  # the shop does not answer the redeem in time: 202 reserved
    shopper.goto(env.page("/", member=True))
    shopper.open()

    shopper.panel.get_by_role("button", name="Redeem $5.00 off your order").click()

    expect(shopper.panel.locator("[data-lb=available]")).to_have_text("250")
    expect(shopper.panel).to_contain_text("500 points are set aside")  # the state, while the shop is slow
    assert env.bridge.available() == 250
    assert shopper.script_errors() == []
