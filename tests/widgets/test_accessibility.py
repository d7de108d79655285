"""Keyboard-only use, focus handling, ARIA, contrast and reduced motion, checked in the browser."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.widgets.conftest import Env, Shopper

# Where the keyboard focus is: inside the widget's shadow root (and whether in the panel) or in the page.
FOCUS = """() => {
  const host = document.getElementById('loyalty-bridge');
  if (!host || document.activeElement !== host) return 'page:' + document.activeElement.tagName;
  const el = host.shadowRoot.activeElement;
  if (!el) return 'host';
  const name = el.getAttribute('aria-label') || el.textContent.trim();
  return (el.closest('#lb-panel') ? 'panel:' : 'widget:') + name;
}"""


def _tab_until(shopper: Shopper, wanted: str, limit: int = 40) -> list[str]:
    seen = []
    for _ in range(limit):
        shopper.page.keyboard.press("Tab")
        where = shopper.page.evaluate(FOCUS)
        seen.append(where)
        if where == wanted:
            return seen
    raise AssertionError(f"never reached {wanted!r}: {seen}")


def test_keyboard_only_open_trap_redeem_and_close(env: Env, shopper: Shopper) -> None:
    env.seed_through_webhooks()
    shopper.goto(env.page("/", member=True))

    assert _tab_until(shopper, "widget:Rewards") == ["page:A", "widget:Rewards"]  # the shop's link, then us
    assert shopper.launcher.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"  # visible focus
    shopper.page.keyboard.press("Enter")
    expect(shopper.panel).to_be_visible()
    expect(shopper.launcher).to_have_attribute("aria-expanded", "true")
    expect(shopper.panel.locator("[data-lb=available]")).to_have_text("750")
    assert shopper.page.evaluate(FOCUS) == "panel:Test Club"  # focus moved to the dialog's title

    # Tab goes round inside the panel and never reaches the page behind it.
    stops = [shopper.page.evaluate(FOCUS) for _ in range(30) if shopper.page.keyboard.press("Tab") is None]
    assert all(stop.startswith("panel:") for stop in stops), stops
    assert "panel:Close" in stops and "panel:Redeem $5.00 off your order" in stops
    _tab_until(shopper, "panel:Close")
    shopper.page.keyboard.press("Shift+Tab")  # backwards from the first stop wraps to the last
    assert shopper.page.evaluate(FOCUS).startswith("panel:")
    assert shopper.page.evaluate(FOCUS) != "panel:Close"

    _tab_until(shopper, "panel:Redeem $5.00 off your order")
    shopper.page.keyboard.press("Enter")
    expect(shopper.panel.locator("[data-lb=code]")).to_have_text(re.compile(r"^[a-z0-9]{12}$"))
    assert shopper.page.evaluate(FOCUS) == "panel:Copy"  # focus follows the new content: the code's Copy button
    shopper.shot("keyboard-redeemed")

    shopper.page.keyboard.press("Escape")
    expect(shopper.panel).to_be_hidden()
    expect(shopper.launcher).to_have_attribute("aria-expanded", "false")
    assert shopper.page.evaluate(FOCUS) == "widget:Rewards"  # focus returned to the launcher
    assert shopper.script_errors() == []


def test_roles_and_labels(env: Env, shopper: Shopper) -> None:
    shopper.goto(env.page("/", member=True))
    expect(shopper.launcher).to_have_attribute("aria-haspopup", "dialog")
    shopper.open()
    dialog = shopper.page.get_by_role("dialog", name="Test Club")
    expect(dialog).to_have_attribute("aria-modal", "true")
    expect(dialog.get_by_role("button", name="Close")).to_be_visible()
    expect(dialog.get_by_role("tablist", name="Sections")).to_be_visible()
    expect(dialog.get_by_role("tab", name="Rewards", exact=True)).to_have_attribute("aria-selected", "true")
    expect(dialog.get_by_role("tabpanel", name="Rewards", exact=True)).to_be_visible()
    expect(dialog.get_by_role("status")).to_have_count(1)
    dialog.get_by_role("button", name="Close").click()
    expect(shopper.panel).to_be_hidden()


def _luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(fg: str, bg: str) -> float:
    high, low = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_contrast_is_at_least_4_5_to_1(env: Env, shopper: Shopper) -> None:
    env.seed_through_webhooks()
    shopper.goto(env.page("/", member=True))
    shopper.open()
    panel_bg = shopper.panel.evaluate("el => getComputedStyle(el).backgroundColor")
    pairs = {
        "launcher": (shopper.launcher, None),
        "header": (shopper.panel.locator("header"), None),
        "muted text": (shopper.panel.locator(".mu").first, panel_bg),
        "body text": (shopper.panel.locator("[data-lb=available]"), panel_bg),
        "button": (shopper.panel.get_by_role("button", name="Redeem $5.00 off your order"), None),
        "tab": (shopper.panel.get_by_role("tab", name="History"), panel_bg),
        "selected tab": (shopper.panel.get_by_role("tab", name="Rewards", exact=True), panel_bg),
    }
    for name, (element, background) in pairs.items():
        fg = element.evaluate("el => getComputedStyle(el).color")
        bg = element.evaluate("el => getComputedStyle(el).backgroundColor")
        if background is not None and bg in ("rgba(0, 0, 0, 0)", "transparent"):
            bg = background
        assert _contrast(fg, bg) >= 4.5, (name, fg, bg, _contrast(fg, bg))


def test_reduced_motion_turns_off_the_opening_animation(env: Env, shopper: Shopper) -> None:
    shopper.goto(env.page("/"))
    shopper.page.emulate_media(reduced_motion="no-preference")
    shopper.open()
    assert shopper.panel.evaluate("el => getComputedStyle(el).animationName") == "lb-in"
    shopper.page.emulate_media(reduced_motion="reduce")
    assert shopper.panel.evaluate("el => getComputedStyle(el).animationName") == "none"
