"""Browser tests of the shopper widget: the real app over HTTP, a shop page on another loopback origin, and
Debian's headless Chromium driven by Playwright. Only the shop's REST API (``responses``) and the shop's pages and
Store API endpoint (``ShopSite``) are stand-ins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, expect

from bridge.web.widget_auth import issue_token
from tests.conftest import _deep_merge
from tests.redemption.conftest import REWARDS
from tests.support import woo
from tests.support.client import SHOP, WIDGET_SECRET, Bridge
from tests.support.woo_rest import FakeWooShop
from tests.widgets.servers import ServedApp, ShopSite, shop_page

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "widgets"
# Chromium resolves nothing but loopback: a request to any other host fails instead of leaving the machine.
NO_DNS = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"


# The session's Chromium is tests/conftest.py's ``browser`` (one Playwright for the widget, console and API tests).
ARTIFACTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture
def site() -> Iterator[tuple[ShopSite, ServedApp]]:
    shop_site = ShopSite()
    served = ServedApp(shop_site)
    yield shop_site, served
    served.stop()


@dataclass
class Env:
    """A running bridge, the shop's site, and what the widget needs to embed itself."""

    bridge: Bridge
    served: ServedApp
    site: ShopSite
    shop_url: str
    woo: FakeWooShop

    @property
    def bridge_url(self) -> str:
        return self.served.url

    @property
    def script(self) -> str:
        return f"{self.bridge_url}/widget/v1/loyalty-bridge.js"

    def token(self, customer_id: str = "2", email: str = woo.CAROL) -> str:
        shop = self.bridge.rt.settings.shop(SHOP)
        assert shop is not None
        return issue_token(shop, customer_id, email)

    def page(
        self,
        path: str,
        *,
        lang: str = "en",
        csp: str | None = None,
        member: bool = False,
        script: str | None = None,
        head: str | None = None,
        **data: str,
    ) -> str:
        """Put a page embedding the widget on the shop's site; returns its URL."""
        attrs = {"bridge": self.bridge_url, "shop": SHOP, "signup_url": "/my-account/?register", **data}
        if member:
            attrs["token"] = self.token()
        extra = {"head": head} if head is not None else {}
        page = shop_page(script or self.script, lang=lang, **extra, **attrs)
        self.site.add_page(path, page, csp=csp)
        return self.shop_url + path

    def referral_code(self) -> str:
        """Carol's referral code, as the real referral API hands it out."""
        token = self.token()
        response = self.bridge.client.get("/widget/v1/referral", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        return str(response.get_json()["code"])

    def seed_through_webhooks(self) -> None:
        """Carol joins (50 points) and pays order 12 (35.00 x 20 points): 750, through the real pipeline."""
        self.bridge.deliver_ok("customer.created")
        self.bridge.deliver_ok("order.updated.processing-paid")
        self.bridge.drain()


def club_config(shop_origin: str) -> dict[str, Any]:
    shop = {
        "id": SHOP,
        "platform": "woocommerce",
        "url": "http://127.0.0.1:8080",  # the shop's REST API, answered by FakeWooShop
        "consumer_key": "ck_test",
        "consumer_secret": "cs_test",
        "webhook_secret": woo.SECRET,
        "widget_secret": WIDGET_SECRET,
        "currency": "USD",
        "allowed_origins": [shop_origin],  # the page's origin (another loopback port)
    }
    return {
        "shops": [shop],
        "program": {
            "earn": {"points_per_currency_unit": 20},
            "rewards": REWARDS,
            "redemption": {"inline_wait_seconds": 2},
            "referrals": {
                "enabled": True,
                "friend_reward": {"type": "percent", "value": 10, "title": "10% off your first order"},
            },
        },
    }


@pytest.fixture
def make_env(
    make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop, site: tuple[ShopSite, ServedApp]
) -> Iterator[Callable[..., Env]]:
    """An Env whose config is the club's with the given keys deep-merged over it (``shop``: over its shop)."""
    shop_site, shop_served = site
    served: list[ServedApp] = []

    def build(shop: dict[str, Any] | None = None, **overrides: Any) -> Env:
        config = club_config(shop_served.url)
        config["shops"][0].update(shop or {})
        _deep_merge(config, overrides)
        bridge = make_bridge(**config)
        served.append(ServedApp(bridge.app))
        return Env(bridge, served[-1], shop_site, shop_served.url, woo_shop)

    yield build
    for app in served:
        app.stop()


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    return make_env()


@dataclass
class Shopper:
    """A browser tab on the shop's page, recording what the page logged and every request it made."""

    page: Page
    console: list[ConsoleMessage] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)

    @property
    def launcher(self) -> Locator:
        return self.page.locator("#loyalty-bridge button.launcher")

    @property
    def panel(self) -> Locator:
        return self.page.locator("#lb-panel")

    def goto(self, url: str) -> None:
        self.page.goto(url)
        expect(self.launcher).to_be_visible()

    def open(self) -> None:
        self.launcher.click()
        expect(self.panel).to_be_visible()
        expect(self.panel.locator(".body")).not_to_have_attribute("aria-busy", "true")

    def tab(self, name: str) -> None:
        self.panel.get_by_role("tablist").get_by_role("tab", name=name, exact=True).click()

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    def script_errors(self) -> list[str]:
        """Errors from scripts (uncaught exceptions, console.error); a refused connection is the network's."""
        logged = [m.text for m in self.console if m.type == "error" and not m.text.startswith("Failed to load")]
        return self.page_errors + logged

    def api_calls(self, bridge_url: str) -> list[tuple[str, str]]:
        """Calls to the bridge's widget API (not the script or language files, not CORS preflights)."""
        return [
            (method, url)
            for method, url in self.requests
            if url.startswith(bridge_url + "/widget/v1/")
            and method != "OPTIONS"
            and "/i18n/" not in url
            and not url.endswith(".js")
        ]

    def foreign_requests(self) -> list[str]:
        return [url for _, url in self.requests if urlsplit(url).hostname not in ("127.0.0.1", None)]

    def clipboard(self) -> str:
        text: str = self.page.evaluate("navigator.clipboard.readText()")
        return text


@pytest.fixture
def shopper(browser: Browser) -> Iterator[Shopper]:
    context = browser.new_context(
        viewport={"width": 1100, "height": 820},
        permissions=["clipboard-read", "clipboard-write"],
        reduced_motion="reduce",  # screenshots without the opening animation half-way
        timezone_id="UTC",  # dates shown in the panel do not depend on the machine's zone
    )
    page = context.new_page()
    tab = Shopper(page)
    page.on("console", lambda message: tab.console.append(message))
    page.on("pageerror", lambda exc: tab.page_errors.append(str(exc)))
    page.on("request", lambda req: tab.requests.append((req.method, req.url)))
    yield tab
    context.close()
