"""The public API against its own document: a bridge with a club worth exploring (rewards, referrals, a member
with points and a redemption), reached with a real admin key and a real widget token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bridge.web.widget_auth import issue_token
from tests.redemption.conftest import REWARDS
from tests.referrals.conftest import REFERRALS
from tests.support import woo
from tests.support.client import ADMIN_KEY, SHOP, Bridge
from tests.support.woo_rest import FakeWooShop

CLUB = {"program": {"rewards": REWARDS, "referrals": REFERRALS, "earn": {"points_per_currency_unit": 20}}}


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


def shopper_headers(bridge: Bridge, customer_id: str = "2", email: str = woo.CAROL) -> dict[str, str]:
    shop = bridge.rt.settings.shop(SHOP)
    assert shop is not None
    return {"Authorization": f"Bearer {issue_token(shop, customer_id, email, ttl_seconds=3600)}"}


@pytest.fixture
def club(make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop) -> Bridge:
    """Carol (customer 2) with 750 points and one issued reward; a published program version; the shop faked."""
    bridge = make_bridge(**CLUB)
    bridge.deliver_ok("customer.created")
    bridge.deliver_ok("order.updated.processing-paid")
    bridge.drain()
    redeemed = bridge.client.post(
        "/widget/v1/redemptions",
        json={"reward_id": "free-ship"},
        headers={**shopper_headers(bridge), "Idempotency-Key": "seed-1"},
    )
    assert redeemed.status_code == 201, redeemed.get_json()
    program = bridge.admin("GET", "/admin/v1/program/published").get_json()["program"]
    draft = bridge.admin("POST", "/admin/v1/program/drafts", json=program)
    assert draft.status_code == 201, draft.get_json()
    published = bridge.admin("POST", f"/admin/v1/program/drafts/{draft.get_json()['id']}/publish")
    assert published.status_code == 200, published.get_json()
    return bridge


def member_id(bridge: Bridge) -> Any:
    member = bridge.member(woo.CAROL)
    assert member is not None
    return member["id"]
