"""A bridge and the model of its shop's REST API, for connecting, reconciling and backfilling (issue 7)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bridge.storage import db
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from bridge.sync.connect import ConnectReport, ConnectRequest, connect
from tests.support.client import Bridge
from tests.support.woo_rest import CONSUMER_KEY, CONSUMER_SECRET, SHOP_URL, FakeWooShop

PUBLIC_URL = "https://loyalty.example.test"
CONNECTED = "main"
"""A shop that is not in config.yaml: everything about it comes from `bridge connect`."""


@dataclass
class Synced:
    bridge: Bridge
    shop: FakeWooShop

    @property
    def rt(self) -> Any:
        return self.bridge.rt

    def connect(self, shop_id: str = CONNECTED, *, hours_ago: float = 0, **kwargs: Any) -> ConnectReport:
        """`bridge connect`; ``hours_ago``: as if it ran that long ago (the orders a test loses came since)."""
        request = ConnectRequest(
            shop_id=shop_id,
            url=kwargs.pop("url", SHOP_URL),
            consumer_key=kwargs.pop("consumer_key", CONSUMER_KEY),
            consumer_secret=kwargs.pop("consumer_secret", CONSUMER_SECRET),
            public_url=kwargs.pop("public_url", PUBLIC_URL),
            **kwargs,
        )
        report = connect(self.rt, request)
        if hours_ago:
            with db.write(self.rt.engine) as conn:
                c = t.shop_connection.c
                moment = utcnow() - timedelta(hours=hours_ago)
                conn.execute(t.shop_connection.update().where(c.shop_id == shop_id).values(connected_at=moment))
        return report

    def earned_entries(self, shop_id: str = CONNECTED) -> int:
        with db.read(self.rt.engine) as conn:
            le = t.ledger_entry.c
            return int(conn.scalar(select(func.count()).where(le.shop_id == shop_id, le.kind == "earn")) or 0)

    def points_total(self, shop_id: str = CONNECTED) -> int:
        with db.read(self.rt.engine) as conn:
            le = t.ledger_entry.c
            return int(conn.scalar(select(func.coalesce(func.sum(le.points), 0)).where(le.shop_id == shop_id)) or 0)

    def balance_of(self, email: str) -> int:
        return self.bridge.available(email)


@pytest.fixture
def synced(make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop) -> Synced:
    return Synced(make_bridge(), woo_shop)
