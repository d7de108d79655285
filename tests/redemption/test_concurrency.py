"""Fifty redeem clicks at once on one balance: no overdraft, exactly as many coupons as points allow."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from bridge.storage import db
from bridge.storage import tables as t
from tests.integration.conftest import BOTH_BACKENDS
from tests.redemption.conftest import Club, club_config, seed_member, token_for
from tests.support.client import Bridge
from tests.support.woo_rest import FakeWooShop

THREADS = 50


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_fifty_simultaneous_redemptions_issue_exactly_what_the_balance_pays_for(
    make_bridge: Any, threadsafe_shop: FakeWooShop
) -> None:
    bridge: Bridge = make_bridge(**club_config(rate_limit_per_minute=1000))
    member_id = seed_member(bridge, 2000)
    club = Club(bridge, threadsafe_shop, member_id, token_for(bridge))
    start = threading.Barrier(THREADS)
    statuses: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def click(n: int) -> None:
        client = bridge.app.test_client()  # one client (and one pooled DB connection) per thread
        try:
            start.wait()
            response = client.post(
                "/widget/v1/redemptions",
                json={"reward_id": "five-off"},
                headers={"Authorization": f"Bearer {club.token}", "Idempotency-Key": f"tab-{n}"},
            )
            body = response.get_json()
            code = body["redemption"]["state"] if response.status_code < 300 else body["error"]["code"]
            statuses.append((response.status_code, code))
        except BaseException as exc:  # surfaced below; a thread must not die silently
            errors.append(exc)

    threads = [threading.Thread(target=click, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert Counter(statuses) == {(201, "issued"): 4, (409, "insufficient_points"): 46}
    assert club.available() == 0
    assert len(threadsafe_shop.coupons) == 4
    assert threadsafe_shop.calls_to("POST", "coupons") == 4
    e = t.ledger_entry.c
    with db.read(bridge.rt.engine) as conn:
        spends = conn.scalar(select(func.count()).where(e.member_id == member_id, e.kind == "spend"))
        rows = conn.scalar(select(func.count()).select_from(t.redemption))
        # the running balance, entry by entry, never went below zero
        points = [p for (p,) in conn.execute(select(e.points).where(e.member_id == member_id).order_by(e.id))]
    assert spends == 4 and rows == 4
    running = 0
    for p in points:
        running += p
        assert running >= 0
