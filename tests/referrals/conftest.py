"""Referral tests: a club with referrals on, Carol (a customer with a paid order) as the referrer, the shop's REST
model for coupons and order lookups, and friend orders built from the captured order payload."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bridge.referrals.attribution import qualify_due
from bridge.referrals.model import Referral
from bridge.storage import db
from bridge.storage import referrals as store
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from bridge.web.widget_auth import issue_token
from tests.redemption.conftest import threadsafe_shop  # noqa: F401  (a fixture, shared)
from tests.support import woo
from tests.support.client import SHOP, Bridge
from tests.support.woo_rest import FakeWooShop

REFERRALS = {
    "enabled": True,
    "referrer_points": 500,
    "friend_points": 100,
    "min_order_amount": 20,
    "referrer_monthly_cap": 5,
    "hold_days": 14,
    "friend_reward": {"type": "fixed_cart", "value": 10, "title": "10 off your first order"},
}
FRIEND = "dave@example.test"


@dataclass
class Referrals:
    bridge: Bridge
    shop: FakeWooShop

    @property
    def rt(self) -> Any:
        return self.bridge.rt

    def carol_code(self) -> str:
        response = self.widget_get("/widget/v1/referral")
        assert response.status_code == 200, response.get_data(as_text=True)
        return str(response.get_json()["code"])

    def widget_get(self, path: str, customer_id: str = "2", email: str = woo.CAROL) -> Any:
        shop = self.rt.settings.shop(SHOP)
        token = issue_token(shop, customer_id, email)
        return self.bridge.client.get(path, headers={"Authorization": f"Bearer {token}"})

    def claim(self, code: str, email: str = FRIEND, **extra: Any) -> Any:
        return self.bridge.client.post("/widget/v1/referrals/claim", json={"code": code, "email": email, **extra})

    def order(self, order_id: int, **fields: Any) -> None:
        """A delivery of the friend's order (``order_data``, same keywords), applied by the worker."""
        body, headers = woo.signed("order.updated.completed", self.order_data(order_id, **fields))
        self.bridge.send_ok(body, headers)
        self.bridge.drain()

    @staticmethod
    def order_data(
        order_id: int,
        *,
        email: str = FRIEND,
        status: str = "processing",
        coupon: str | None = None,
        customer_id: int = 0,
        phone: str = "555-0100",
        address: str = "9 Elm Street",
        modified: str = "2026-11-24T10:00:00",
        refunds: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The friend's order: the captured order 12, retargeted."""
        data = woo.payload("order.updated.completed")
        data.update(id=order_id, status=status, customer_id=customer_id, date_modified_gmt=modified)
        data["date_completed_gmt"] = modified if status == "completed" else None
        data["billing"] = {**data["billing"], "email": email, "phone": phone, "address_1": address}
        data["coupon_lines"] = [{"id": 1, "code": coupon, "discount": "10"}] if coupon else []
        data["refunds"] = refunds or []
        if status in ("pending", "on-hold"):
            data["date_paid_gmt"] = None
        return data

    def referral(self, email: str = FRIEND) -> Referral:
        from bridge.referrals.model import fold_email

        with db.read(self.rt.engine) as conn:
            found = store.by_friend(conn, self.rt.settings.program.id, fold_email(email))
        assert found is not None
        return found

    def referral_count(self) -> int:
        with db.read(self.rt.engine) as conn:
            return len(conn.execute(select(t.referral.c.id)).all())

    def after_hold(self, days: int = 15) -> int:
        return qualify_due(self.rt, utcnow() + timedelta(days=days))


def carol_with_an_order(bridge: Bridge) -> None:
    for name in woo.ORDER_12_SEQUENCE[:4]:  # Carol bought (order 12, completed): 35 points
        bridge.deliver_ok(name)
    bridge.drain()


@pytest.fixture
def make_referrals(make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop) -> Callable[..., Referrals]:
    def build(**settings: Any) -> Referrals:
        bridge = make_bridge(program={"referrals": {**REFERRALS, **settings}})
        carol_with_an_order(bridge)
        return Referrals(bridge, woo_shop)

    return build


@pytest.fixture
def referrals(make_referrals: Callable[..., Referrals]) -> Referrals:
    return make_referrals()
