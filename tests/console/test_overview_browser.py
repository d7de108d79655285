"""The Overview in Chromium: the charts are drawn by the vendored uPlot under the console's CSP (no error in the
browser), in English and Persian; screenshots ``overview-charts-en``/``-fa`` in ``test-artifacts/console/``."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from bridge.console.routing import Role
from tests.console.browser import ConsoleSite, shot, watch_problems


def test_the_overview_draws_its_charts(chromium: Browser, console_site: ConsoleSite) -> None:
    bridge = console_site.console.bridge
    for name in ("customer.created", "order.updated.processing-paid"):
        bridge.deliver_ok(name)
    bridge.drain()
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    problems = watch_problems(page)
    console_site.sign_in(page, Role.VIEWER)
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    charts = page.locator("figure.chart")
    expect(charts).to_have_count(2)
    for index in range(2):
        expect(charts.nth(index)).to_be_visible()  # shown once drawn: hidden without JavaScript
        expect(charts.nth(index).locator("canvas")).to_have_count(1)
    expect(page.locator("#fig-issued .value")).to_have_text("85")
    shot(page, "overview-charts-en")

    page.goto(console_site.url + "?lang=fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("figure.chart canvas")).to_have_count(2)
    expect(page.locator("#fig-issued .value")).to_have_text("۸۵")
    shot(page, "overview-charts-fa")
    assert not problems, problems
    page.close()
