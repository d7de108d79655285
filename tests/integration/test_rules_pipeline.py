"""Rules on the real pipeline: the worker fills the context (history, categories, caps, membership, birthdays)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bridge.members.birthday import run_birthdays
from tests.integration.conftest import BOTH_BACKENDS
from tests.support import woo
from tests.support.client import Bridge
from tests.support.woo_rest import FakeWooShop


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def earn(rules: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"program": {"earn": {"signup_points": 0, "rules": rules, **extra.pop("earn", {})}, **extra}}


def paid_order(bridge: Bridge, order_id: int, **changes: Any) -> None:
    body, headers = woo.with_order_id("order.updated.processing-paid", order_id, **changes)
    bridge.send_ok(body, headers)
    bridge.drain()


def test_category_multiplier_reads_categories_from_the_shop_once(
    make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop
) -> None:
    woo_shop.products[10] = {"id": 10, "categories": [{"id": 15, "name": "Coffee", "slug": "coffee"}]}
    bridge = make_bridge(**earn([{"id": "coffee2x", "type": "multiplier", "categories": ["coffee"], "multiplier": 2}]))
    paid_order(bridge, 12)
    assert bridge.available() == 70  # 35.00 of coffee, twice
    paid_order(bridge, 13)
    assert bridge.available() == 140
    assert woo_shop.calls_to("GET", r"products/10") == 1  # the connector's cache


def test_first_and_every_second_order_bonuses_follow_the_members_history(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(
        **earn(
            [
                {"id": "welcome", "type": "first_order", "points": 100},
                {"id": "second", "type": "nth_order", "every": 2, "points": 20},
            ]
        )
    )
    paid_at = datetime(2026, 11, 23, 22, 32, 56, tzinfo=UTC)
    for i in range(3):
        moment = (paid_at + timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%S")
        paid_order(bridge, 100 + i, date_paid_gmt=moment, date_modified_gmt=moment)
    assert bridge.available() == 3 * 35 + 100 + 20


def test_a_daily_cap_counts_what_the_member_earned_today(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(**earn([{"id": "daily", "type": "cap", "period": "day", "max_points": 50}]))
    paid_order(bridge, 12)
    paid_order(bridge, 13)
    assert bridge.available() == 50  # 35 + 15 of the second order's 35
    paid_order(bridge, 14)  # capped to nothing today ...
    body, headers = woo.with_order_id("order.updated.completed", 14)
    bridge.send_ok(body, headers)
    bridge.drain()
    assert bridge.available() == 50  # ... and not re-evaluated when it is completed (once per order)


def test_a_closed_program_rewards_from_the_qualifying_order_on(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(
        **earn([], earn={"signup_points": 50}, membership={"policy": "closed", "qualifying_total": "40"})
    )
    bridge.deliver_ok("customer.created")
    bridge.drain()
    assert bridge.available() == 0  # not in yet: no sign-up bonus
    paid_order(bridge, 12, total="30.00")
    assert bridge.available() == 0  # 30.00 < 40: not rewarded
    paid_order(bridge, 13)  # 42.90: joins and earns
    paid_order(bridge, 14, total="30.00")  # a member now: any order earns
    assert bridge.available() == 70
    # order 12 (before joining) is completed later: earlier activity is not rewarded, ever
    body, headers = woo.with_order_id("order.updated.completed", 12, total="30.00")
    bridge.send_ok(body, headers)
    bridge.drain()
    assert bridge.available() == 70


def test_the_birthday_job_rewards_once_a_year_on_the_day(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(**earn([{"id": "bday", "type": "birthday", "points": 75}], timezone="Pacific/Auckland"))
    customer = woo.payload("customer.created")
    customer["meta_data"] = [*customer["meta_data"], {"id": 40, "key": "birthday", "value": "1990-03-15"}]
    bridge.send_ok(*woo.signed("customer.created", customer))
    bridge.drain()
    eve = datetime(2027, 3, 14, 10, 0, tzinfo=UTC)  # 23:00 on the 14th in Auckland
    assert run_birthdays(bridge.rt, eve)["points"] == 0
    on_the_day = datetime(2027, 3, 14, 12, 0, tzinfo=UTC)  # 01:00 on the 15th in Auckland
    assert run_birthdays(bridge.rt, on_the_day)["points"] == 75
    assert run_birthdays(bridge.rt, on_the_day + timedelta(hours=5))["points"] == 0
    assert bridge.available() == 75


def test_a_product_updated_webhook_refreshes_its_categories(
    make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop
) -> None:
    woo_shop.products[10] = {"id": 10, "categories": [{"id": 15, "slug": "tea"}]}
    bridge = make_bridge(**earn([{"id": "coffee2x", "type": "multiplier", "categories": ["coffee"], "multiplier": 2}]))
    paid_order(bridge, 12)
    assert bridge.available() == 35
    woo_shop.products[10] = {"id": 10, "categories": [{"id": 16, "slug": "coffee"}]}
    paid_order(bridge, 13)
    assert bridge.available() == 70  # still cached as tea
    body, headers = woo.signed("order.updated.processing-paid", woo_shop.products[10])
    headers |= {"X-WC-Webhook-Topic": "product.updated", "X-WC-Webhook-Resource": "product"}
    bridge.send_ok(body, headers)
    bridge.drain()
    paid_order(bridge, 14)
    assert bridge.available() == 140  # read again: coffee, twice
    assert woo_shop.calls_to("GET", r"products/10") == 2
