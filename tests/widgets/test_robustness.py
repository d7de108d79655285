"""The widget never breaks the shop's page: strict CSP, the bridge going down, the script loaded twice."""

from __future__ import annotations

import re
import socket

from playwright.sync_api import expect

from tests.widgets.conftest import Env, Shopper
from tests.widgets.servers import shop_page

UNREACHABLE = "Our rewards club cannot be reached right now. Your points are safe; please try again in a moment."


def _strict_csp(bridge_url: str) -> str:
    return (
        f"default-src 'self'; script-src {bridge_url}; connect-src {bridge_url} 'self'; style-src 'self' {bridge_url}"
    )


def test_the_widget_works_under_a_strict_content_security_policy(env: Env, shopper: Shopper) -> None:
    env.seed_through_webhooks()
    # An inline script on the page proves the policy is enforced: Chromium must refuse exactly that one.
    url = env.page(
        "/csp",
        csp=_strict_csp(env.bridge_url),
        member=True,
        color="#7a1f3d",
        store_nonce="n-1",
        head="<script>window.inlineRan = true;</script>",
    )
    shopper.goto(url)
    shopper.open()

    expect(shopper.panel.locator("[data-lb=available]")).to_have_text("750")
    # The stylesheet and the data-color custom property both applied without 'unsafe-inline'.
    assert shopper.launcher.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(122, 31, 61)"
    assert shopper.launcher.evaluate("el => getComputedStyle(el).position") == "fixed"
    shopper.panel.get_by_role("button", name="Redeem Free shipping").click()
    expect(shopper.panel.locator("[data-lb=code]")).to_have_text(re.compile(r"^[a-z0-9]{12}$"))
    shopper.panel.get_by_role("button", name="Apply to my cart").click()
    expect(shopper.panel).to_contain_text("Applied to your cart.")
    shopper.shot("strict-csp")

    assert shopper.page.evaluate("window.inlineRan === undefined")
    refused = [m.text for m in shopper.console if "Content Security Policy" in m.text]
    assert len(refused) == 1 and "inline script" in refused[0], refused
    assert shopper.page_errors == []
    others = [m.text for m in shopper.console if m.type == "error" and "Content Security Policy" not in m.text]
    assert others == []


def test_the_bridge_going_down_shows_a_friendly_message_and_a_retry(env: Env, shopper: Shopper) -> None:
    env.seed_through_webhooks()
    shopper.goto(env.page("/", member=True))
    expect(shopper.launcher).to_have_text("Rewards")
    env.served.stop()  # the bridge dies after the page loaded

    shopper.open()

    expect(shopper.panel.get_by_role("alert")).to_have_text(UNREACHABLE)
    expect(shopper.panel.get_by_role("button", name="Try again")).to_be_visible()
    shopper.shot("bridge-down")
    shopper.panel.get_by_role("button", name="Try again").click()
    expect(shopper.panel.get_by_role("alert")).to_have_text(UNREACHABLE)
    assert shopper.page.evaluate("window.shopScriptRan === true")
    assert shopper.script_errors() == []  # only the refused connections, logged by the network layer


def test_a_bridge_that_is_down_before_the_page_loads_leaves_the_page_working(env: Env, shopper: Shopper) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    url = env.page("/down", script=f"{dead}/widget/v1/loyalty-bridge.js", bridge=dead, member=True)

    shopper.page.goto(url)
    shopper.page.wait_for_load_state("load")

    assert shopper.page.evaluate("window.shopScriptRan === true")
    expect(shopper.page.get_by_role("heading", name="Test shop")).to_be_visible()
    expect(shopper.launcher).to_have_count(0)
    assert shopper.script_errors() == []


def test_the_bridge_down_after_the_script_with_a_guest_page(env: Env, shopper: Shopper) -> None:
    shopper.goto(env.page("/guest"))
    env.served.stop()
    shopper.open()
    expect(shopper.panel.get_by_role("alert")).to_have_text(UNREACHABLE)
    assert shopper.script_errors() == []


def test_the_script_included_twice_mounts_one_widget(env: Env, shopper: Shopper) -> None:
    head = f'<script src="/shop.js"></script><script src="{env.script}"></script>'
    shopper.goto(env.page("/twice", head=head))
    shopper.page.wait_for_load_state("load")
    expect(shopper.page.locator("#loyalty-bridge")).to_have_count(1)
    assert shopper.script_errors() == []


def test_a_blocking_script_in_the_head_with_the_global_config(env: Env, shopper: Shopper) -> None:
    """The other way to embed: ``window.LoyaltyBridge = {token}`` set by the shop's own script, and the widget's
    script in the <head> without ``async`` (it runs before <body> exists and mounts when the document is ready)."""
    env.seed_through_webhooks()
    env.site.scripts["/config.js"] = f"window.LoyaltyBridge = {{token: {env.token()!r}, shop: 'shop1'}};"
    head = f'<script src="/shop.js"></script><script src="/config.js"></script><script src="{env.script}"></script>'
    env.site.add_page("/global", shop_page("", head=head))  # the widget's tag is the one in head
    shopper.goto(f"{env.shop_url}/global")
    shopper.open()
    expect(shopper.panel.locator("[data-lb=available]")).to_have_text("750")
    assert shopper.page.evaluate("typeof window.LoyaltyBridge.open") == "function"
    shopper.page.evaluate("window.LoyaltyBridge.close()")
    expect(shopper.panel).to_be_hidden()
    assert shopper.script_errors() == []
