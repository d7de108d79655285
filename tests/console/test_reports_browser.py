"""A report in Chromium: its chart drawn by the vendored uPlot under the console's CSP (no browser error), in
English and Persian; screenshots ``report-program-en``/``-fa`` in ``test-artifacts/console/``."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from bridge.console.routing import Role
from tests.console.browser import ConsoleSite, shot, watch_problems


def test_a_report_draws_its_chart(chromium: Browser, console_site: ConsoleSite) -> None:
    bridge = console_site.console.bridge
    for name in ("customer.created", "order.updated.processing-paid"):
        bridge.deliver_ok(name)
    bridge.drain()
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    problems = watch_problems(page)
    console_site.sign_in(page, Role.VIEWER)
    page.goto(console_site.url + "reports/program?from=2026-11-01&to=2026-11-26&interval=week")
    expect(page.get_by_role("heading", level=1)).to_have_text("Program")
    expect(page.locator("#report-chart")).to_be_visible()  # shown once drawn: hidden without JavaScript
    expect(page.locator("#report-chart canvas")).to_have_count(1)
    expect(page.locator("#table-periods tbody tr")).to_have_count(5)  # Sun 1 Nov, then ISO weeks to the 26th
    shot(page, "report-program-en")

    page.goto(console_site.url + "reports/program?from=2026-11-01&to=2026-11-26&interval=week&lang=fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#report-chart canvas")).to_have_count(1)
    shot(page, "report-program-fa")
    assert not problems, problems
    page.close()
