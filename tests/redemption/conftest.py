"""Redemption tests: a club with rewards, a member holding points, widget tokens, and the shop's REST model."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import responses
from requests import PreparedRequest
from sqlalchemy import select

from bridge.ledger import service as ledger
from bridge.redemption.model import Redemption
from bridge.storage import db
from bridge.storage import members as member_store
from bridge.storage import redemptions as redemption_store
from bridge.storage import tables as t
from bridge.web.widget_auth import issue_token
from tests.support import woo
from tests.support.client import SHOP, Bridge
from tests.support.woo_rest import FakeWooShop, Reply

REWARDS: list[dict[str, Any]] = [
    {
        "id": "five-off",
        "title": "5.00 off your order",
        "type": "fixed_cart",
        "points": 500,
        "value": "5.00",
        "minimum_amount": "10",
        "validity_days": 30,
    },
    {"id": "ten-percent", "title": "10% off", "type": "percent", "points": 800, "value": 10, "individual_use": False},
    {"id": "free-ship", "title": "Free shipping", "type": "free_shipping", "points": 300, "product_categories": [15]},
    {
        "id": "any-amount",
        "title": "Points as money",
        "type": "variable",
        "step": 100,
        "min_points": 100,
        "max_points": 2000,
        "currency_per_point": "0.01",
    },
    {
        "id": "monthly",
        "title": "Monthly treat",
        "type": "fixed_cart",
        "points": 100,
        "value": 1,
        "limit": {"count": 2, "period_days": 30},
    },
]

CUSTOMER_ID = "2"


def club_config(**redemption: Any) -> dict[str, Any]:
    return {"program": {"rewards": REWARDS, "redemption": {"inline_wait_seconds": 2, **redemption}}}


@dataclass
class Club:
    """The bridge, its shop's REST API and one member (Carol, customer 2) with a token for the widget."""

    bridge: Bridge
    shop: FakeWooShop
    member_id: int
    token: str

    def widget(self, method: str, path: str, *, key: str | None = None, token: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {token or self.token}", **kw.pop("headers", {})}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.bridge.client.open(path, method=method, headers=headers, **kw)

    def redeem(self, reward_id: str, points: int | None = None, key: str | None = None) -> Any:
        body: dict[str, Any] = {"reward_id": reward_id}
        if points is not None:
            body["points"] = points
        return self.widget("POST", "/widget/v1/redemptions", key=key or uuid.uuid4().hex, json=body)

    def available(self) -> int:
        with db.read(self.bridge.rt.engine) as conn:
            return ledger.balance(conn, self.member_id).available

    def redemption(self, redemption_id: int) -> Redemption:
        with db.read(self.bridge.rt.engine) as conn:
            found = redemption_store.get(conn, redemption_id)
        assert found is not None
        return found

    def entries(self) -> list[dict[str, Any]]:
        e = t.ledger_entry.c
        with db.read(self.bridge.rt.engine) as conn:
            rows = conn.execute(select(t.ledger_entry).where(e.member_id == self.member_id).order_by(e.id))
            return [dict(r) for r in rows.mappings()]


def seed_member(bridge: Bridge, points: int, customer_id: str = CUSTOMER_ID, email: str = woo.CAROL) -> int:
    """A member linked to the shop customer, holding ``points`` (an audited admin adjustment)."""
    rt = bridge.rt
    program_id = rt.settings.program.id
    with db.write(rt.engine) as conn:
        member_id = member_store.get_or_create(conn, program_id, email, SHOP)
        member_store.link_identity(conn, program_id, SHOP, customer_id, member_id)
        if points:
            ledger.adjust(
                conn,
                program_id=program_id,
                member_id=member_id,
                points=points,
                reason="seed",
                actor="test",
                request_key=f"seed-{member_id}",
            )
    return member_id


def token_for(bridge: Bridge, customer_id: str = CUSTOMER_ID, email: str = woo.CAROL) -> str:
    shop = bridge.rt.settings.shop(SHOP)
    assert shop is not None
    return issue_token(shop, customer_id, email)


@pytest.fixture
def make_club(make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop) -> Callable[..., Club]:
    def build(points: int = 2000, **redemption: Any) -> Club:
        bridge = make_bridge(**club_config(**redemption))
        member_id = seed_member(bridge, points)
        return Club(bridge, woo_shop, member_id, token_for(bridge))

    return build


@pytest.fixture
def club(make_club: Callable[..., Club]) -> Club:
    return make_club()


class ThreadSafeWooShop(FakeWooShop):
    """The shop model behind a lock: concurrent requests are served one at a time, as a real shop's database
    would serialise coupon inserts (the model's id counter is not thread-safe)."""

    _lock = threading.Lock()

    def _dispatch(self, request: PreparedRequest) -> Reply:
        with self._lock:
            return super()._dispatch(request)


@pytest.fixture
def threadsafe_shop() -> Iterator[FakeWooShop]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        shop = ThreadSafeWooShop(rsps).install()
        yield shop
        assert not shop.faults, f"scripted faults never triggered: {shop.faults}"
