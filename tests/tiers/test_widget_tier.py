"""The shopper sees their tier: the panel's ``tier`` section (badge, the way to the next tier, benefits, a
downgrade warning when one is due), in the shopper's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bridge.tiers.jobs import run_review
from bridge.web.widget_auth import issue_token
from tests.support import woo
from tests.support.client import SHOP, Bridge
from tests.tiers.conftest import order


def panel(bridge: Bridge, locale: str = "en") -> dict[str, Any]:
    shop = bridge.rt.settings.shop(SHOP)
    assert shop is not None
    response = bridge.client.get(
        "/widget/v1/panel",
        query_string={"shop": SHOP, "locale": locale},
        headers={"Authorization": f"Bearer {issue_token(shop, '2', woo.CAROL)}"},
    )
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_the_panel_shows_the_tier_the_way_to_the_next_and_the_benefits(tiered: Callable[..., Bridge]) -> None:
    bridge = tiered(window="calendar_year")
    order(bridge, 501)  # 35 points in 2026: silver; gold at 60
    tier = panel(bridge)["tier"]
    assert tier["metric"] == "points" and tier["value"] == "35" and tier["source"] == "earned"
    assert tier["tier"]["id"] == "silver" and tier["tier"]["name"] == "Silver"
    assert tier["next"] == {
        "id": "gold",
        "name": "Gold",
        "threshold": "60",
        "multiplier": "2",
        "perks": [],
        "needed": "25",
        "by": "2026-12-31",
    }
    assert tier["warning"] is None
    assert panel(bridge, "fa")["tier"]["tier"]["name"] == "نقره‌ای"


def test_the_panel_shows_a_downgrade_warning_when_one_is_due(tiered: Callable[..., Bridge]) -> None:
    bridge = tiered(window={"rolling_months": 1}, grace_days=10, warn_days=5)
    order(bridge, 501)
    order(bridge, 502)  # gold
    run_review(bridge.rt, datetime(2026, 12, 27, 12, tzinfo=UTC))  # November's points left the window
    run_review(bridge.rt, datetime(2027, 1, 1, 12, tzinfo=UTC))  # warned: 60 points by 6 Jan
    assert panel(bridge)["tier"]["warning"] == {"needed": "60", "by": "2027-01-06"}


def test_no_tier_section_without_tiers(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge()
    order(bridge, 501)
    assert panel(bridge)["tier"] is None
