"""What shoppers see, in a real Chromium on a shop page, against the real bridge over HTTP."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from bridge.web.widget_auth import issue_token
from tests.support import woo
from tests.widgets.conftest import Env, Shopper

PERSIAN_750 = "\u06f7\u06f5\u06f0"  # 750 in Persian digits, as Intl.NumberFormat("fa") writes it


def test_a_guest_sees_what_the_club_offers_and_a_join_link(env: Env, shopper: Shopper) -> None:
    shopper.goto(env.page("/"))
    expect(shopper.launcher).to_have_text("Rewards")
    expect(shopper.launcher).to_have_attribute("aria-expanded", "false")

    shopper.open()

    expect(shopper.panel.get_by_role("heading", name="Join Test Club")).to_be_visible()
    expect(shopper.panel).to_contain_text("20 points for every $1.00 you spend")
    expect(shopper.panel).to_contain_text("50 points when you join")
    expect(shopper.panel).to_contain_text("$5.00 off your order")
    join = shopper.panel.get_by_role("link", name="Join and get 50 points")
    expect(join).to_have_attribute("href", "/my-account/?register")
    assert shopper.api_calls(env.bridge_url) == [("GET", f"{env.bridge_url}/widget/v1/club?shop=shop1&locale=en")]
    shopper.shot("guest")
    assert shopper.script_errors() == [] and shopper.foreign_requests() == []


def test_a_member_sees_the_balance_from_the_ledger_in_one_api_call(env: Env, shopper: Shopper) -> None:
    env.seed_through_webhooks()
    shopper.goto(env.page("/", member=True))

    shopper.open()

    expect(shopper.panel.get_by_role("heading", name="Test Club")).to_be_visible()
    expect(shopper.panel.locator("[data-lb=available]")).to_have_text("750")
    expect(shopper.panel).to_contain_text("50 more points for 10% off")
    expect(shopper.panel.get_by_role("button", name="Redeem $5.00 off your order")).to_be_visible()
    calls = shopper.api_calls(env.bridge_url)
    assert [(method, url.split("?")[0]) for method, url in calls] == [("GET", f"{env.bridge_url}/widget/v1/panel")]
    shopper.shot("member")

    shopper.tab("History")
    expect(shopper.panel.locator("#lb-tab")).to_contain_text("order #12")
    expect(shopper.panel.locator("#lb-tab")).to_contain_text("+700")
    shopper.shot("member-history")
    shopper.tab("Earn")
    expect(shopper.panel.locator("#lb-tab")).to_contain_text("20 points for every $1.00 spent")
    shopper.page.set_viewport_size({"width": 375, "height": 700})  # a phone: the panel fits the screen
    box = shopper.panel.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    shopper.shot("member-phone")
    assert shopper.script_errors() == [] and shopper.foreign_requests() == []


def test_redeem_shows_the_code_copies_it_and_applies_it_to_the_cart(env: Env, shopper: Shopper) -> None:
    env.seed_through_webhooks()
    shopper.goto(env.page("/", member=True, store_nonce="nonce-123"))
    shopper.open()

    shopper.panel.get_by_role("button", name="Redeem $5.00 off your order").click()

    code_box = shopper.panel.locator("[data-lb=code]")
    expect(code_box).to_have_text(re.compile(r"^[a-z0-9]{12}$"))
    code = code_box.inner_text()
    coupons = list(env.woo.coupons.values())
    assert [c["code"] for c in coupons] == [code]
    assert env.bridge.available() == 250
    expect(shopper.panel.locator("[data-lb=available]")).to_have_text("250")
    redeem_posts = [c for c in shopper.api_calls(env.bridge_url) if c[0] == "POST"]
    assert redeem_posts == [("POST", f"{env.bridge_url}/widget/v1/redemptions")]
    shopper.shot("redeemed")

    shopper.panel.get_by_role("button", name="Copy").click()
    expect(shopper.panel.get_by_role("button", name="Copied!")).to_be_visible()
    assert shopper.clipboard() == code

    shopper.panel.get_by_role("button", name="Apply to my cart").click()
    expect(shopper.panel).to_contain_text("Applied to your cart.")
    assert len(env.site.store_calls) == 1
    call = env.site.store_calls[0]
    assert call.body == {"code": code}
    assert call.headers["Nonce"] == "nonce-123"
    shopper.shot("applied")

    shopper.panel.get_by_role("button", name="Back").click()
    shopper.tab("My rewards")
    expect(shopper.panel.locator("#lb-tab")).to_contain_text(code)
    expect(shopper.panel.locator("#lb-tab")).to_contain_text("ready to use")
    shopper.shot("my-rewards")
    assert shopper.script_errors() == [] and shopper.foreign_requests() == []


def test_the_referral_link_is_copied_and_offered_for_sharing(env: Env, shopper: Shopper) -> None:
    env.seed_through_webhooks()
    shopper.goto(env.page("/", member=True))
    shopper.open()

    code = env.referral_code()
    expected_link = f"{env.bridge_url}/r/{code}"
    shopper.tab("Invite")
    link = shopper.panel.get_by_label("Your referral link", exact=True)
    expect(link).to_have_value(expected_link)
    copy = shopper.panel.get_by_role("button", name="Copy your referral link")
    copy.click()
    expect(copy).to_have_text("Copied!")
    assert shopper.clipboard() == expected_link
    # Headless Chromium on Linux has no Web Share API: the e-mail, WhatsApp and Telegram links stand in.
    assert shopper.page.evaluate("typeof navigator.share") == "undefined"
    whatsapp = shopper.panel.get_by_role("link", name="WhatsApp")
    expect(whatsapp).to_have_attribute("href", re.compile(rf"^https://wa\.me/\?text=.*{code}"))
    expect(shopper.panel.get_by_role("link", name="E-mail")).to_have_attribute("href", re.compile(r"^mailto:\?"))
    expect(shopper.panel.get_by_role("link", name="Telegram")).to_have_attribute(
        "href", re.compile(r"^https://t\.me/share/url\?url=")
    )
    shopper.shot("referral")
    assert shopper.script_errors() == [] and shopper.foreign_requests() == []


def test_a_friend_with_a_ref_link_claims_the_welcome_coupon(env: Env, shopper: Shopper) -> None:
    env.seed_through_webhooks()
    code = env.referral_code()
    url = env.page("/landing", store_nonce="n-1")
    shopper.goto(f"{url}?ref={code}")
    expect(shopper.launcher).to_have_text("Your welcome gift")

    shopper.open()

    expect(shopper.panel.get_by_role("heading", name="A gift for you")).to_be_visible()
    expect(shopper.panel).to_contain_text("10% off your first order")
    shopper.shot("friend")
    shopper.panel.get_by_label("Your e-mail address").fill("dana@example.test")
    shopper.panel.get_by_role("button", name="Claim my gift").click()

    shown = shopper.panel.locator("[data-lb=code]")
    expect(shown).to_have_text(re.compile(r"^\w{12}$"))
    coupons = [c for c in env.woo.coupons.values() if c["email_restrictions"] == ["dana@example.test"]]
    assert len(coupons) == 1  # created in the shop by the real referral API, locked to the friend's e-mail
    expect(shown).to_have_text(coupons[0]["code"])
    expect(shopper.panel.get_by_role("button", name="Apply to my cart")).to_be_visible()
    shopper.shot("friend-claimed")
    assert shopper.script_errors() == [] and shopper.foreign_requests() == []


def test_persian_renders_right_to_left_with_persian_digits(env: Env, shopper: Shopper) -> None:
    env.seed_through_webhooks()
    shopper.goto(env.page("/fa", lang="fa", member=True))
    expect(shopper.launcher).to_have_text("جوایز")

    shopper.open()

    wrapper = shopper.page.locator("#loyalty-bridge .lb")
    expect(wrapper).to_have_attribute("dir", "rtl")
    expect(wrapper).to_have_attribute("lang", "fa")
    assert shopper.panel.evaluate("el => getComputedStyle(el).direction") == "rtl"
    expect(shopper.panel.locator("[data-lb=available]")).to_have_text(PERSIAN_750)
    expect(shopper.panel.get_by_role("button", name="بستن")).to_be_visible()
    expect(shopper.panel).to_contain_text("امتیاز قابل استفاده")
    shopper.shot("persian")
    assert shopper.script_errors() == [] and shopper.foreign_requests() == []


def test_the_token_is_the_only_identity(env: Env, shopper: Shopper) -> None:
    """A forged token (another secret) gets the session message, never someone's panel."""
    env.seed_through_webhooks()
    forged = env.token().rsplit(".", 1)[0] + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    shopper.goto(env.page("/forged", token=forged))
    shopper.open()
    expect(shopper.panel.get_by_role("alert")).to_have_text("Your session has expired. Please reload the page.")
    expect(shopper.panel.locator("[data-lb=available]")).to_have_count(0)
    assert woo.CAROL not in shopper.panel.inner_text()


def test_an_expired_token_is_renewed_from_the_shops_token_url(env: Env, shopper: Shopper) -> None:
    env.seed_through_webhooks()
    shop = env.bridge.rt.settings.shop("shop1")
    assert shop is not None
    expired = issue_token(shop, "2", woo.CAROL, ttl_seconds=900, now=time.time() - 2000)
    env.site.token = env.token()
    shopper.goto(env.page("/renew", token=expired, token_url="/widget-token"))

    shopper.open()

    expect(shopper.panel.locator("[data-lb=available]")).to_have_text("750")
    assert env.site.token_requests == 1
    panel_calls = [url.split("?")[0] for _, url in shopper.api_calls(env.bridge_url)]
    assert panel_calls == [f"{env.bridge_url}/widget/v1/panel"] * 2  # refused once (expired), then answered
    assert shopper.script_errors() == []


def test_an_unknown_ref_code_falls_back_to_the_guest_view(env: Env, shopper: Shopper) -> None:
    shopper.goto(env.page("/landing") + "?ref=NOT-A-CODE")
    shopper.open()
    expect(shopper.panel.get_by_role("alert")).to_have_text("This link is not valid.")
    expect(shopper.panel.get_by_role("heading", name="Join Test Club")).to_be_visible()
    assert shopper.script_errors() == []


def test_a_variable_reward_redeems_the_points_the_shopper_chose(env: Env, shopper: Shopper) -> None:
    env.seed_through_webhooks()
    shopper.goto(env.page("/", member=True))
    shopper.open()

    shopper.panel.get_by_label("Points to use").fill("300")
    shopper.panel.get_by_role("button", name="Redeem Your points as money").click()

    expect(shopper.panel.locator("[data-lb=code]")).to_have_text(re.compile(r"^[a-z0-9]{12}$"))
    assert env.bridge.available() == 450
    coupon = next(iter(env.woo.coupons.values()))
    assert coupon["amount"] == "3.00"  # 300 points x 0.01


def test_a_refusal_from_the_bridge_is_shown_in_plain_words(env: Env, shopper: Shopper) -> None:
    env.seed_through_webhooks()
    shopper.goto(env.page("/", member=True))
    shopper.open()
    member = env.bridge.member(woo.CAROL)
    assert member is not None
    # Points spent elsewhere (another tab, support) after the panel was drawn.
    response = env.bridge.admin(
        "POST", f"/admin/v1/members/{member['id']}/adjustments", json={"points": -600, "reason": "test"}
    )
    assert response.status_code in (200, 201), response.get_json()

    shopper.panel.get_by_role("button", name="Redeem $5.00 off your order").click()

    expect(shopper.panel.get_by_role("alert")).to_have_text("You do not have enough points for this reward yet.")
    assert env.woo.coupons == {}
    shopper.panel.get_by_role("button", name="Back").click()
    expect(shopper.panel.locator("[data-lb=available]")).to_have_text("150")
    shopper.shot("refused")
    assert shopper.script_errors() == []
