"""``GET /``: the demo shop page (only for a shop with ``demo: true``), and the log line for a refused origin."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest

from bridge.web import cors
from bridge.web.demo import DEMO_CUSTOMER_ID
from bridge.web.widget_auth import verify_token
from tests.support.client import SHOP, WIDGET_SECRET, Bridge

DEMO_SHOP = {
    "id": SHOP,
    "platform": "woocommerce",
    "url": "https://shop.example.com",
    "webhook_secret": "demo-webhook-secret-change-me",
    "widget_secret": WIDGET_SECRET,
    "currency": "USD",
    "demo": True,
}
# The hold of the example config: the demo's recent order is still pending.
HELD = {"program": {"earn": {"release": "after_hold", "hold_days": 14}}}


def _token(page: str) -> str:
    found = re.search(r'data-token="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_without_a_demo_shop_the_root_is_a_json_404(bridge: Bridge) -> None:
    response = bridge.client.get("/")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_the_demo_page_embeds_the_widget_signed_in_as_the_demo_shopper(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(shops=[DEMO_SHOP], **HELD)

    response = bridge.client.get("/")

    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src" not in response.headers["Content-Security-Policy"]  # default-src 'self': no inline script
    page = response.get_data(as_text=True)
    assert 'src="http://localhost/widget/v1/loyalty-bridge.js"' in page
    shopper = verify_token(_token(page), bridge.rt.settings.shop)
    assert (shopper.shop_id, shopper.customer_id) == (SHOP, DEMO_CUSTOMER_ID)
    panel = bridge.client.get("/widget/v1/panel", headers={"Authorization": f"Bearer {_token(page)}"}).get_json()
    # A sign-up (50) and an order past its hold (680) are available, an order 3 days old (120) is pending.
    assert panel["member"]["available"] == 730 and panel["member"]["pending"] == 120
    assert [lot["points"] for lot in panel["member"]["pending_lots"]] == [120]


def test_reloading_the_demo_page_writes_nothing_more(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(shops=[DEMO_SHOP], **HELD)
    bridge.client.get("/")
    member = bridge.member("shopper@demo.invalid")
    assert member is not None
    before = bridge.ledger(member["id"])

    page = bridge.client.get("/?lang=fa").get_data(as_text=True)

    assert bridge.ledger(member["id"]) == before
    assert '<html lang="fa" dir="rtl">' in page


def _refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == cors.__name__]


def test_a_refused_origin_is_logged_once_with_the_shop(
    bridge: Bridge, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cors, "refusals", cors.RefusalLog())
    caplog.set_level(logging.WARNING, logger=cors.__name__)
    headers: dict[str, Any] = {"Origin": "http://localhost:5500"}

    for _ in range(5):
        response = bridge.client.get("/widget/v1/club", query_string={"shop": SHOP}, headers=headers)
        assert "Access-Control-Allow-Origin" not in response.headers

    [line] = _refusals(caplog)
    assert "'http://localhost:5500'" in line and f"'{SHOP}'" in line and "allowed_origins" in line
    # The shop's own origin and same-origin requests are not refusals.
    bridge.client.get("/widget/v1/club", query_string={"shop": SHOP}, headers={"Origin": "http://127.0.0.1:8080"})
    bridge.client.get("/widget/v1/club", query_string={"shop": SHOP}, headers={"Origin": "http://localhost"})
    assert len(_refusals(caplog)) == 1


def test_many_made_up_origins_cannot_flood_the_log(
    bridge: Bridge, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cors, "refusals", cors.RefusalLog(burst=3))
    caplog.set_level(logging.WARNING, logger=cors.__name__)
    for i in range(10):
        bridge.client.get("/widget/v1/panel", headers={"Origin": f"https://evil{i}.example"})
    assert len(_refusals(caplog)) == 3
    assert all("for shop '?'" in line for line in _refusals(caplog))  # no shop named: not guessed
