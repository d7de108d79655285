"""Backfill: past customers and orders imported once, resumable, with or without points."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bridge.cli import cli
from bridge.connectors.woocommerce.api import ShopUnavailable
from bridge.storage import db
from bridge.storage import tables as t
from bridge.sync.backfill import AWARD, HISTORY_ONLY, BackfillConflict, Progress, Throttle, backfill
from tests.support import woo
from tests.sync.conftest import CONNECTED, Synced

SINCE = datetime(2025, 1, 1, tzinfo=UTC)


def _history(synced: Synced, orders: int, customers: int = 0) -> None:
    for i in range(customers):
        synced.shop.put_customer(i + 1, email=f"customer{i + 1}@example.test", created="2025-03-01T10:00:00")
    for i in range(orders):
        customer = i % customers + 1 if customers else 0
        email = f"customer{customer}@example.test" if customer else f"guest{i}@example.test"
        day = 1 + i % 28
        synced.shop.put_order(10_000 + i, email=email, customer_id=customer, created=f"2025-06-{day:02d}T12:00:00")


def _count(synced: Synced, table: Any) -> int:
    with db.read(synced.rt.engine) as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def test_five_thousand_orders_interrupted_at_half_and_resumed_are_each_counted_once(synced: Synced) -> None:
    synced.connect()
    _history(synced, 5000)
    synced.shop.put_order(1, email="old@example.test", created="2024-12-31T23:00:00")  # before --since: not imported

    def interrupt_at_half(progress: Progress) -> None:
        if progress.phase == "orders" and progress.done == 2500:
            synced.shop.fail_next("GET", "orders", status=503)

    with pytest.raises(ShopUnavailable):
        backfill(synced.rt, CONNECTED, since=SINCE, mode=AWARD, rate=0, on_progress=interrupt_at_half)
    assert synced.earned_entries() == 2500

    resumed = backfill(synced.rt, CONNECTED, since=SINCE, mode=AWARD, rate=0)

    assert resumed.resumed
    assert synced.earned_entries() == 5000 and synced.points_total() == 5000 * 35
    assert sum(resumed.counts["orders"].values()) == 2500  # only the second half was read again
    again = backfill(synced.rt, CONNECTED, since=SINCE, mode=AWARD, rate=0)
    assert again.already_done and synced.earned_entries() == 5000
    assert (
        backfill(synced.rt, CONNECTED, since=SINCE, mode=AWARD, rate=0, restart=True).counts["orders"]["known"] == 5000
    )
    assert synced.points_total() == 5000 * 35  # a full re-run changes nothing: each order once, ever


def test_history_only_builds_members_and_orders_without_points_forever(synced: Synced) -> None:
    synced.connect()
    _history(synced, 6, customers=3)
    synced.shop.put_order(20_000, email="pending@example.test", status="pending", created="2025-07-01T10:00:00")

    report = backfill(synced.rt, CONNECTED, since=SINCE, mode=HISTORY_ONLY, rate=0)

    assert report.counts["orders"]["history"] == 6 and report.counts["customers"]["linked"] == 3
    assert _count(synced, t.member) == 4 and _count(synced, t.ledger_entry) == 0
    assert _count(synced, t.order_state) == 7
    # A later refund of an imported order takes nothing back, and a completion does not earn.
    refunded = dict(synced.shop.orders[10_000], status="refunded", date_modified_gmt="2026-01-01T00:00:00")
    completed = dict(synced.shop.orders[20_000], status="completed", date_modified_gmt="2026-01-01T00:00:00")
    synced.shop.orders.update({10_000: refunded, 20_000: completed})
    secret = next(iter(synced.shop.webhook_secrets.values()))
    for data in (refunded, completed):
        body, headers = woo.signed("order.updated.completed", data, secret=secret)
        assert synced.bridge.post_webhook(body, headers, shop=CONNECTED).status_code == 200
    synced.bridge.drain()
    assert synced.balance_of("customer1@example.test") == 0
    assert synced.balance_of("pending@example.test") == 35  # unpaid at import: a new purchase when it is paid


def test_award_gives_signup_bonuses_only_when_asked(synced: Synced) -> None:
    synced.connect()
    _history(synced, 2, customers=2)
    backfill(synced.rt, CONNECTED, since=SINCE, mode=AWARD, rate=0)
    assert synced.balance_of("customer1@example.test") == 35  # the order; no sign-up bonus for an old account
    backfill(synced.rt, CONNECTED, since=SINCE, mode=AWARD, rate=0, restart=True, signup_bonus=True)
    assert synced.balance_of("customer1@example.test") == 35 + 50


def test_an_interrupted_run_with_other_options_is_not_silently_replaced(synced: Synced) -> None:
    synced.connect()
    _history(synced, 150)
    synced.shop.fail_next("GET", "orders", status=500)
    with pytest.raises(ShopUnavailable):
        backfill(synced.rt, CONNECTED, since=SINCE, mode=AWARD, rate=0)
    with pytest.raises(BackfillConflict, match="--restart"):
        backfill(synced.rt, CONNECTED, since=SINCE, mode=HISTORY_ONLY, rate=0)


class _Clock:
    """Time that passes only when the throttle sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_the_throttle_spaces_requests() -> None:
    clock = _Clock()
    throttle = Throttle(rate=50, clock=lambda: clock.now, sleep=clock.sleep)
    starts = []
    for _ in range(11):
        throttle.wait()
        starts.append(clock.now)
    assert [round(b - a, 6) for a, b in pairwise(starts)] == [0.02] * 10
    clock.now += 1.0  # a slow page: the next request is not delayed to catch up
    throttle.wait()
    assert clock.slept == [0.02] * 10


def test_an_unbounded_throttle_never_sleeps() -> None:
    clock = _Clock()
    throttle = Throttle(rate=0, clock=lambda: clock.now, sleep=clock.sleep)
    for _ in range(1000):
        throttle.wait()
    assert clock.slept == []


def test_cli_backfill_requires_a_mode_and_reports(synced: Synced, tmp_path: Path) -> None:
    synced.connect()
    _history(synced, 120)
    config = str(tmp_path / "config.yaml")
    runner = CliRunner()
    no_mode = runner.invoke(cli, ["--config", config, "backfill", "--shop", CONNECTED, "--since", "2025-01-01"], obj={})
    done = runner.invoke(cli, ["--config", config, "backfill", "--shop", CONNECTED, "--since", "2025-01-01",
                               "--award", "--rate", "0"], obj={})  # fmt: skip
    assert no_mode.exit_code == 2 and "--award" in no_mode.output
    assert done.exit_code == 0, done.output
    assert "orders {'missed': 120}" in done.output
    assert synced.points_total() == 120 * 35
