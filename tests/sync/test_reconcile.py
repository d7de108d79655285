"""Reconciliation: orders whose deliveries were lost reach the ledger exactly; known orders change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bridge.cli import cli
from bridge.connectors.woocommerce.api import ShopUnavailable
from bridge.jobs.schedule import run_due
from bridge.storage import db
from bridge.storage import tables as t
from bridge.sync.reconcile import reconcile, reconcile_all
from tests.support import clock, woo
from tests.support.client import SHOP
from tests.support.clock import TEST_NOW
from tests.sync.conftest import CONNECTED, Synced

NOW = TEST_NOW
ORDER_POINTS = 35  # the captured order: line total 35.00 after the coupon, 1 point per unit
ORDER_TOTAL = Decimal("42.90")


def _stamp(minutes_ago: float) -> str:
    """A shop timestamp relative to the moment of the call (the suite may run long after this module is imported)."""
    return (clock.now() - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S")


def _expected_after_refund(refunded: Decimal) -> int:
    """What the order keeps after a partial refund: the refunded share of its points, rounded down, goes back."""
    taken = int((ORDER_POINTS * refunded / ORDER_TOTAL).to_integral_value(rounding=ROUND_FLOOR))
    return ORDER_POINTS - taken


def _lost_orders(synced: Synced, count: int) -> dict[str, int]:
    """``count`` orders that happened in the shop while every delivery was lost; returns the expected balances."""
    expected = {}
    for i in range(count):
        email = f"lost{i}@example.test"
        refunds = [{"id": 9000 + i, "reason": "damaged", "total": "-10.00"}] if i % 5 == 0 else []
        status = "cancelled" if i % 7 == 3 else "completed"
        synced.shop.put_order(1000 + i, email=email, status=status, created=_stamp(count + 5 - i), refunds=refunds)
        if status == "cancelled":
            expected[email] = 0
        else:
            expected[email] = _expected_after_refund(Decimal(10)) if refunds else ORDER_POINTS
    return expected


def test_fifty_lost_orders_are_recovered_with_exact_balances(synced: Synced) -> None:
    synced.connect(hours_ago=2)
    expected = _lost_orders(synced, 50)

    report = reconcile(synced.rt, CONNECTED)

    assert report.counts["missed"] == 50 and report.repaired == 50
    assert {email: synced.balance_of(email) for email in expected} == expected


def test_reconciling_orders_already_delivered_changes_nothing(synced: Synced, make_bridge: Any) -> None:
    bridge = synced.bridge
    for name in woo.ORDER_12_SEQUENCE[:4]:  # created ... completed, delivered by webhook to the config shop
        bridge.deliver_ok(name)
    bridge.drain()
    delivered = woo.payload("order.updated.completed")
    synced.shop.orders[12] = delivered  # the shop shows the same order, unchanged since the last delivery
    before = bridge.ledger(bridge.member(woo.CAROL)["id"])  # type: ignore[index]

    report = reconcile(synced.rt, SHOP, since=datetime(2026, 11, 1, tzinfo=UTC))

    assert report.counts["known"] == 1 and report.repaired == 0
    assert bridge.ledger(bridge.member(woo.CAROL)["id"]) == before  # type: ignore[index]


def test_a_lost_refund_is_repaired_from_the_shops_current_order(synced: Synced) -> None:
    bridge = synced.bridge
    for name in woo.ORDER_12_SEQUENCE[:4]:
        bridge.deliver_ok(name)
    bridge.drain()
    assert bridge.available() == ORDER_POINTS
    refunded = woo.payload("order.updated.partial-refund")  # its delivery was lost
    synced.shop.orders[12] = refunded

    report = reconcile(synced.rt, SHOP, since=datetime(2026, 11, 1, tzinfo=UTC))

    assert report.counts["updated"] == 1
    refund_total = -sum(Decimal(r["total"]) for r in refunded["refunds"])
    assert bridge.available() == _expected_after_refund(refund_total)
    assert reconcile(synced.rt, SHOP, since=datetime(2026, 11, 1, tzinfo=UTC)).repaired == 0


def test_an_interrupted_run_resumes_where_it_stopped(synced: Synced) -> None:
    synced.connect(hours_ago=6)
    expected = _lost_orders(synced, 250)  # three pages

    def crash_after_first_page(report: Any) -> None:
        if report.pages == 1:
            synced.shop.fail_next("GET", "orders", status=503)

    with pytest.raises(ShopUnavailable):
        reconcile(synced.rt, CONNECTED, on_page=crash_after_first_page)
    with db.read(synced.rt.engine) as conn:
        state = conn.execute(select(t.sync_state)).mappings().one()
    assert state["state"] == "running" and state["watermark"] is None

    resumed = reconcile(synced.rt, CONNECTED)

    assert resumed.resumed and resumed.pages >= 2
    assert {email: synced.balance_of(email) for email in expected} == expected
    assert synced.earned_entries() == 250  # each order earned once (cancelled ones earned, then reversed)


def test_orders_sharing_one_modification_second_are_all_read(synced: Synced) -> None:
    synced.connect(hours_ago=2)
    same_second = _stamp(30)
    for i in range(230):
        synced.shop.put_order(5000 + i, email=f"tie{i}@example.test", created=same_second)

    report = reconcile(synced.rt, CONNECTED)

    assert report.counts["missed"] == 230
    assert synced.points_total() == 230 * ORDER_POINTS


def test_the_next_window_starts_at_the_watermark_minus_the_overlap(synced: Synced) -> None:
    synced.connect()
    first = reconcile(synced.rt, CONNECTED)
    second = reconcile(synced.rt, CONNECTED)
    overlap = timedelta(seconds=synced.rt.settings.sync.reconcile_overlap_seconds)
    assert second.window_start == first.window_end - overlap
    late = synced.shop.put_order(77, email="late@example.test", created=_stamp(1))  # modified inside the overlap
    assert late["date_modified_gmt"] > (first.window_end - overlap).strftime("%Y-%m-%dT%H:%M:%S")
    assert reconcile(synced.rt, CONNECTED).counts["missed"] == 1


def test_an_order_that_cannot_be_applied_is_queued_in_the_inbox_not_lost(synced: Synced) -> None:
    synced.connect(hours_ago=2)
    synced.shop.put_order(1, email="ok@example.test", created=_stamp(10))
    broken = synced.shop.put_order(2, email="broken@example.test", created=_stamp(9))
    broken["total"] = "not money"

    report = reconcile(synced.rt, CONNECTED)

    assert report.counts["missed"] == 1 and report.counts["queued"] == 1
    assert synced.bridge.inbox_count("pending") == 1
    assert synced.balance_of("ok@example.test") == ORDER_POINTS


def test_the_periodic_job_reconciles_every_shop_and_survives_a_failing_one(make_bridge: Any, woo_shop: Any) -> None:
    bridge = make_bridge(
        sync={"reconcile_interval_seconds": 600},
        shops=[
            {"id": SHOP, "url": woo_shop.base_url, "consumer_key": "ck_test", "consumer_secret": "cs_test",
             "webhook_secret": woo.SECRET, "currency": "USD"},
            {"id": "gone", "url": "http://127.0.0.1:8089", "consumer_key": "ck", "consumer_secret": "cs",
             "webhook_secret": "x" * 32, "currency": "USD"},
        ],
    )  # fmt: skip
    woo_shop.put_order(31, email="periodic@example.test", created=_stamp(5))
    woo_shop.rsps.add_passthru("http://127.0.0.1:8089")  # nothing listens there: a real connection error

    ran = run_due(bridge.rt, {}, 0.0)
    results = reconcile_all(bridge.rt, NOW)

    assert "sync.reconcile" in ran
    assert bridge.available("periodic@example.test") == ORDER_POINTS
    assert "error" in results["gone"]
    with db.read(bridge.rt.engine) as conn:
        gone = conn.execute(select(t.sync_state).where(t.sync_state.c.shop_id == "gone")).mappings().one()
    assert gone["last_error"] and "ShopUnavailable" in gone["last_error"]


def test_cli_reconcile_prints_what_it_repaired(synced: Synced, tmp_path: Path) -> None:
    synced.connect(hours_ago=2)
    _lost_orders(synced, 3)
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "config.yaml"), "reconcile", "--shop", CONNECTED],
                                obj={})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "3 orders read, 3 repaired (3 missed, 0 updated)" in result.output


def test_the_first_window_of_a_connected_shop_starts_when_it_was_connected(synced: Synced) -> None:
    # given orders placed in the hours before connecting (the backfill's to import, with --award or not)
    synced.shop.put_order(501, email="before@example.test", status="completed", created=_stamp(90))
    synced.shop.put_order(502, email="before2@example.test", status="completed", created=_stamp(30))
    synced.connect(hours_ago=0.25)
    # and one placed after connecting, whose delivery was lost
    synced.shop.put_order(503, email="after@example.test", status="completed", created=_stamp(5))

    report = reconcile(synced.rt, CONNECTED)

    assert report.counts["missed"] == 1
    assert synced.balance_of("after@example.test") == ORDER_POINTS
    assert synced.points_total() == ORDER_POINTS  # nothing for the orders from before the connection
