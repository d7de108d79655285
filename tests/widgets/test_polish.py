"""What the screenshots of issue 13 showed, fixed and kept fixed: the tab bar, focus after Redeem and Escape, the
date of pending points, ways to earn with their numbers, Persian texts, plurals, money in the shop's currency, and
the demo page a newcomer opens after ``scripts/run``."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import expect

from bridge.web.demo import DEMO_EMAIL
from tests.support import woo
from tests.support.client import WIDGET_SECRET, Bridge
from tests.widgets.conftest import Env, Shopper
from tests.widgets.servers import ServedApp

ACCENT = "rgb(29, 79, 145)"  # the default --lb-accent, #1d4f91
FOCUS = """() => {
  const el = document.getElementById('loyalty-bridge').shadowRoot.activeElement;
  return el && el.closest('#lb-panel') ? el.getAttribute('aria-label') || el.textContent.trim() : 'outside';
}"""
TABS = """nav => ({
  rows: new Set([...nav.children].map(t => Math.round(t.getBoundingClientRect().top))).size,
  overflow: nav.scrollWidth - nav.clientWidth,
  lines: Math.max(...[...nav.children].map(t => Math.round(t.getBoundingClientRect().height))),
})"""
RULES = [
    {"id": "join", "type": "signup", "points": 1},
    {"id": "welcome", "type": "first_order", "points": 100},
    {"id": "base", "type": "per_amount", "points": 1, "per": 10, "minimum_amount": 20},
    {"id": "again", "type": "nth_order", "every": 3, "points": 30},
]


def _check_tabs(shopper: Shopper) -> None:
    tablist = shopper.panel.get_by_role("tablist")
    layout = tablist.evaluate(TABS)
    assert layout["rows"] == 1 and layout["overflow"] <= 0, layout  # one line, nothing scrolled out of view
    tabs = tablist.get_by_role("tab")
    expect(tabs).to_have_count(5)
    selected = tablist.locator("[aria-selected=true]")
    expect(selected).to_have_count(1)
    assert selected.evaluate("el => getComputedStyle(el).borderBottomColor") == ACCENT
    others = tablist.locator("[aria-selected=false]")
    assert others.first.evaluate("el => getComputedStyle(el).borderBottomColor") != ACCENT


def test_the_tabs_fit_on_one_line_show_the_selected_one_and_follow_the_arrow_keys(env: Env, shopper: Shopper) -> None:
    env.seed_through_webhooks()
    shopper.goto(env.page("/", member=True))
    shopper.open()
    _check_tabs(shopper)

    shopper.tab("History")
    history = shopper.panel.get_by_role("tab", name="History")
    expect(history).to_have_attribute("aria-selected", "true")
    expect(shopper.panel.get_by_role("tabpanel", name="History")).to_contain_text("order #12")
    history.press("ArrowRight")  # to the next tab, which is focused and shown
    expect(shopper.panel.get_by_role("tab", name="Invite")).to_have_attribute("aria-selected", "true")
    assert shopper.page.evaluate(FOCUS) == "Invite"
    expect(history).to_have_attribute("aria-selected", "false")
    shopper.shot("tabs")

    shopper.goto(env.page("/fa", lang="fa", member=True))  # Persian words are longer: still one line
    shopper.open()
    _check_tabs(shopper)
    shopper.shot("tabs-fa")


def test_focus_stays_in_the_panel_after_redeem_and_escape_always_closes(env: Env, shopper: Shopper) -> None:
    env.seed_through_webhooks()
    shopper.goto(env.page("/", member=True))
    shopper.open()
    member = env.bridge.member(woo.CAROL)
    assert member is not None
    env.bridge.admin("POST", f"/admin/v1/members/{member['id']}/adjustments", json={"points": -600, "reason": "test"})

    shopper.panel.get_by_role("button", name="Redeem $5.00 off your order").click()  # refused: 150 points left

    expect(shopper.panel.get_by_role("alert")).to_have_text("You do not have enough points for this reward yet.")
    assert shopper.page.evaluate(FOCUS) == "Back"
    shopper.page.keyboard.press("Escape")
    expect(shopper.panel).to_be_hidden()

    shopper.open()  # and with the focus lost to the page (a click on the page's text), Escape still closes
    shopper.page.locator("main h1").click()
    assert shopper.page.evaluate(FOCUS) == "outside"
    shopper.page.keyboard.press("Escape")
    expect(shopper.panel).to_be_hidden()


def test_focus_stays_on_the_waiting_message_while_the_shop_is_slow(
    make_env: Callable[..., Env], shopper: Shopper
) -> None:
    env = make_env(program={"redemption": {"inline_wait_seconds": 0.1}})
    env.seed_through_webhooks()
    env.woo.fail_next("POST", "coupons", timeout=True)  # no coupon yet: 202, the widget polls (no worker runs)
    shopper.goto(env.page("/", member=True))
    shopper.open()

    shopper.panel.get_by_role("button", name="Redeem $5.00 off your order").click()

    waiting = shopper.panel.locator("[data-lb=wait]")
    expect(waiting).to_be_visible(timeout=10_000)
    assert shopper.page.evaluate(FOCUS) == waiting.inner_text()
    shopper.page.wait_for_timeout(1_500)  # at least one poll redrew the message
    assert shopper.page.evaluate(FOCUS) == waiting.inner_text()
    shopper.page.keyboard.press("Escape")
    expect(shopper.panel).to_be_hidden()


def test_pending_points_say_the_day_they_become_available(make_env: Callable[..., Env], shopper: Shopper) -> None:
    env = make_env(program={"earn": {"release": "after_hold", "hold_days": 14}})
    env.bridge.deliver_ok("order.updated.completed")  # order 12, completed 2026-11-23: available 14 days later
    env.bridge.send_ok(*woo.with_order_id("order.updated.processing-paid", 13))  # paid, not completed
    env.bridge.drain()
    shopper.goto(env.page("/", member=True))

    shopper.open()

    expect(shopper.panel.locator("[data-lb=pending]")).to_have_text("1,400")
    expect(shopper.panel).to_contain_text("700 points become available on Dec 7, 2026")
    expect(shopper.panel).to_contain_text("700 points become available once your order is complete")
    shopper.shot("pending-dates")


def test_ways_to_earn_show_their_numbers_with_plurals_and_the_shops_currency(
    make_env: Callable[..., Env], shopper: Shopper
) -> None:
    env = make_env(shop={"currency": "EUR"}, program={"earn": {"rules": RULES}})
    shopper.goto(env.page("/", member=True))
    shopper.open()

    shopper.tab("Earn")

    ways = shopper.panel.get_by_role("tabpanel")
    expect(ways).to_contain_text("1 point for joining the club")  # one, not "1 points"
    expect(ways).to_contain_text("+1 point")
    expect(ways).to_contain_text("100 bonus points on your first order")
    expect(ways).to_contain_text("+100 points")
    expect(ways).to_contain_text("1 point for every €10.00 spent on orders of €20.00 or more")
    expect(ways).to_contain_text("30 bonus points every 3 orders")
    shopper.shot("ways-to-earn")
    shopper.tab("Rewards")
    expect(shopper.panel.get_by_role("button", name="Redeem €5.00 off your order")).to_have_count(0)  # 0 points
    expect(shopper.panel).to_contain_text("€5.00 off your order")
    expect(shopper.panel).to_contain_text("on orders of €10.00 or more")
    expect(shopper.panel).to_contain_text("100 points = €1.00")  # the variable reward's money value


def test_persian_shows_rules_and_rewards_in_persian(make_env: Callable[..., Env], shopper: Shopper) -> None:
    env = make_env(program={"earn": {"rules": RULES}})
    env.seed_through_webhooks()
    shopper.goto(env.page("/fa", lang="fa", member=True))
    shopper.open()

    names = shopper.panel.locator("#lb-tab strong")
    expect(names.first).to_be_visible()
    titles = names.all_inner_texts()
    assert titles and not [t for t in titles if re.search("[A-Za-z]", t)], titles  # no English left
    assert "\u06f1\u06f0\u066a تخفیف" in titles  # "10% off", with Persian digits and percent sign
    shopper.tab("کسب امتیاز")
    ways = shopper.panel.get_by_role("tabpanel").inner_text()
    assert not re.search("[A-Za-z]", ways), ways
    assert "\u06f1\u06f0\u06f0 امتیاز هدیه برای اولین سفارش" in ways
    shopper.shot("persian-ways")


def test_a_variable_reward_shows_the_money_the_chosen_points_are_worth(env: Env, shopper: Shopper) -> None:
    env.seed_through_webhooks()
    shopper.goto(env.page("/", member=True))
    shopper.open()

    shopper.panel.get_by_label("Points to use").fill("300")

    expect(shopper.panel.locator("[data-lb=worth]")).to_have_text("worth $3.00")
    shopper.panel.get_by_role("button", name="Redeem Your points as money").click()
    expect(shopper.panel.get_by_role("heading", name="Your code for $3.00 off your order")).to_be_visible()


def test_the_demo_page_shows_a_working_club(make_bridge: Callable[..., Bridge], shopper: Shopper) -> None:
    demo = {
        "id": "demo",
        "platform": "woocommerce",
        "url": "https://shop.example.com",
        "webhook_secret": woo.SECRET,
        "widget_secret": WIDGET_SECRET,
        "currency": "USD",
        "demo": True,
    }
    bridge = make_bridge(shops=[demo], program={"earn": {"release": "after_hold", "hold_days": 14}})
    served = ServedApp(bridge.app)
    try:
        shopper.goto(served.url + "/")
        shopper.open()
        expect(shopper.panel.locator("[data-lb=available]")).to_have_text("730")
        expect(shopper.panel).to_contain_text(re.compile(r"120 points become available on \w+ \d+, \d{4}"))
        shopper.shot("demo")
        assert bridge.member(DEMO_EMAIL) is not None
        assert shopper.script_errors() == [] and shopper.foreign_requests() == []
    finally:
        served.stop()
