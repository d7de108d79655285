"""``GET /metrics`` as an operator's Prometheus reads it: real signed deliveries in, the real RQ worker draining
them, the shop's REST model for coupons. Counters are this test process's, shared by every test: each test
reads them before and after and checks what its own actions moved."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from bridge.storage import clock
from tests.observability.scrape import Samples, scrape, value
from tests.redemption.conftest import club_config, seed_member, token_for
from tests.support import woo
from tests.support.client import SHOP, Bridge
from tests.support.woo_rest import FakeWooShop


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_a_signed_delivery_is_counted_received_then_applied_with_its_ledger_entries(bridge: Bridge) -> None:
    before = scrape(bridge)
    bridge.deliver_ok("customer.created")
    bridge.deliver_ok("order.created.pending")
    bridge.deliver_ok("order.updated.processing-paid")

    received = scrape(bridge)
    assert moved(before, received, "bridge_deliveries_received_total", shop=SHOP, topic="order.created") == 1
    assert moved(before, received, "bridge_deliveries_received_total", shop=SHOP, topic="order.updated") == 1
    assert moved(before, received, "bridge_deliveries_received_total", shop=SHOP, topic="customer.created") == 1
    assert value(received, "bridge_inbox_pending", shop=SHOP) == 3
    assert moved(before, received, "bridge_deliveries_applied_total", shop=SHOP, topic="order.updated") == 0

    bridge.drain()

    drained = scrape(bridge)
    assert moved(before, drained, "bridge_deliveries_applied_total", shop=SHOP, topic="order.created") == 1
    assert moved(before, drained, "bridge_deliveries_applied_total", shop=SHOP, topic="order.updated") == 1
    assert moved(before, drained, "bridge_deliveries_applied_total", shop=SHOP, topic="customer.created") == 1
    assert value(drained, "bridge_inbox_pending", shop=SHOP) == 0
    assert value(drained, "bridge_inbox_lag_seconds", shop=SHOP) == 0
    # one drain job, one batch of three
    assert moved(before, drained, "bridge_job_runs_total", job="bridge.jobs.drain.drain_inbox", outcome="ok") == 1
    assert moved(before, drained, "bridge_drain_batch_size_count", shop=SHOP) == 1
    assert moved(before, drained, "bridge_drain_batch_size_sum", shop=SHOP) == 3
    assert moved(before, drained, "bridge_drain_batch_duration_seconds_count", shop=SHOP) == 1
    # the sign-up bonus and the paid order's points, as the member's ledger holds them
    carol = bridge.member(woo.CAROL)
    assert carol is not None
    kinds = [entry["kind"] for entry in bridge.ledger(carol["id"])]
    assert kinds.count("earn") >= 2
    assert moved(before, drained, "bridge_ledger_entries_total", kind="earn") == kinds.count("earn")


def test_a_redelivered_order_moves_no_ledger_counter(bridge: Bridge) -> None:
    """Counted when written: a replay that the idempotency keys turn into a no-op writes nothing, counts nothing."""
    bridge.deliver_ok("order.updated.processing-paid")
    bridge.drain()
    before = scrape(bridge)
    bridge.deliver_ok("order.updated.processing-paid")
    bridge.drain()
    after = scrape(bridge)
    assert moved(before, after, "bridge_deliveries_applied_total", shop=SHOP, topic="order.updated") == 1
    assert moved(before, after, "bridge_ledger_entries_total", kind="earn") == 0


def test_the_inbox_lag_is_the_age_of_the_oldest_waiting_delivery(bridge: Bridge) -> None:
    bridge.deliver_ok("order.created.pending")
    pinned = clock.install(clock.SystemClock())  # the test's clock (restored after the test)
    clock.install(clock.SystemClock(pinned.offset + timedelta(seconds=120)))  # type: ignore[attr-defined]
    lag = value(scrape(bridge), "bridge_inbox_lag_seconds", shop=SHOP)
    assert 120 <= lag < 180


def test_a_delivery_that_cannot_be_applied_is_counted_failed_and_parked(bridge: Bridge) -> None:
    before = scrape(bridge)
    body, headers = woo.signed("order.updated.completed", {**woo.payload("order.updated.completed"), "line_items": 7})
    bridge.send_ok(body, headers)
    bridge.drain()
    after = scrape(bridge)
    labels = {"shop": SHOP, "topic": "order.updated"}
    assert moved(before, after, "bridge_deliveries_failed_total", parked="true", **labels) == 1
    assert moved(before, after, "bridge_deliveries_applied_total", **labels) == 0
    assert value(after, "bridge_inbox_failed", shop=SHOP) == 1
    assert bridge.inbox_count("failed") == 1


@pytest.fixture
def club_bridge(make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop) -> tuple[Bridge, str]:
    bridge = make_bridge(**club_config())
    seed_member(bridge, 600)
    return bridge, token_for(bridge)


def test_redemptions_are_counted_by_outcome_and_the_shop_api_call_by_status(club_bridge: tuple[Bridge, str]) -> None:
    bridge, token = club_bridge
    before = scrape(bridge)

    def redeem(key: str) -> int:
        response = bridge.client.post(
            "/widget/v1/redemptions",
            json={"reward_id": "five-off"},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
        )
        return response.status_code

    assert redeem("first") == 201
    assert redeem("second") == 409  # 100 points left: refused, nothing debited

    after = scrape(bridge)
    assert moved(before, after, "bridge_redemptions_total", outcome="reserved") == 1
    assert moved(before, after, "bridge_redemptions_total", outcome="issued") == 1
    assert moved(before, after, "bridge_redemptions_total", outcome="refused") == 1
    assert moved(before, after, "bridge_ledger_entries_total", kind="spend") == 1
    calls = {"method": "POST", "resource": "coupons"}
    assert moved(before, after, "bridge_shop_api_requests_total", status="201", **calls) == 1
    assert moved(before, after, "bridge_shop_api_request_duration_seconds_count", **calls) == 1


def test_a_batch_applied_again_one_by_one_counts_each_delivery_once(bridge: Bridge) -> None:
    """The drain applies a batch under a savepoint; when one delivery fails, it rolls the whole batch back and
    applies it again one delivery at a time. What the rolled-back pass wrote is not counted."""
    before = scrape(bridge)
    bridge.deliver_ok("order.updated.processing-paid")  # good: earns points
    body, headers = woo.signed("order.updated.completed", {**woo.payload("order.updated.completed"), "line_items": 7})
    bridge.send_ok(body, headers)  # bad: fails to parse
    bridge.drain()
    after = scrape(bridge)
    labels = {"shop": SHOP, "topic": "order.updated"}
    assert moved(before, after, "bridge_drain_batch_size_sum", shop=SHOP) == 2  # one batch of both
    assert moved(before, after, "bridge_deliveries_applied_total", **labels) == 1
    assert moved(before, after, "bridge_deliveries_failed_total", parked="true", **labels) == 1
    carol = bridge.member(woo.CAROL)
    assert carol is not None
    earned = [entry for entry in bridge.ledger(carol["id"]) if entry["kind"] == "earn"]
    assert earned and moved(before, after, "bridge_ledger_entries_total", kind="earn") == len(earned)
