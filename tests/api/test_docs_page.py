"""``GET /docs`` in a real browser (Debian's Chromium, as the widget's tests drive it): the vendored Redoc renders
the document, and nothing but the bridge answers the page (its Content-Security-Policy allows no other host)."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.support.client import Bridge
from tests.widgets.servers import ServedApp


def test_the_docs_page_renders_every_section_from_the_bridge_alone(bridge: Bridge, browser: Browser) -> None:
    served = ServedApp(bridge.app)
    page = browser.new_page()
    requested: list[str] = []
    failed: dict[str, str | None] = {}
    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfailed", lambda request: failed.update({request.url: request.failure}))
    try:
        page.goto(f"{served.url}/docs")

        expect(page.get_by_role("heading", name="Loyalty Bridge API (1)")).to_be_visible(timeout=30_000)
        for tag in ("admin", "widget", "webhooks", "operations"):
            expect(page.get_by_role("link", name=tag, exact=True)).to_be_visible()
        page.get_by_role("link", name="admin", exact=True).click()
        expect(
            page.get_by_text("Find members (by e-mail, or by name, id or code with", exact=False).first
        ).to_be_visible(timeout=15_000)
        page.get_by_role("link", name="widget", exact=True).click()
        expect(page.get_by_text("Redeem points for a reward").first).to_be_visible(timeout=15_000)
    finally:
        page.close()
        served.stop()
    # Redoc 3 tries to fetch its logo from its CDN: the page's policy stops it in the browser (the browser of these
    # tests resolves no other host anyway, so the reason is what shows it).
    elsewhere = [url for url in requested if not url.startswith((served.url, "data:", "blob:"))]
    assert {url: failed.get(url) for url in elsewhere} == {url: "csp" for url in elsewhere}
    assert f"{served.url}/openapi.json" in requested
