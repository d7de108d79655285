"""Backfill benchmark: past orders imported into the ledger per second (target >= 1,000/s on PostgreSQL).

    .venv/bin/python bench/backfill.py [--db sqlite|postgresql|both] [--count 5000] [--mode award|history-only]

The shop is the test suite's REST model of WooCommerce (tests/support/woo_rest.py) behind ``responses``, in
process: zero network latency, so the figure is the bridge's own cost (plus the model's JSON encoding, reported
separately as "shop alone": every page fetched through ``WooClient`` without applying anything). Each order is
the captured order 12 with its own id and a new guest shopper, so every order creates a member. The backfill
runs through ``bridge.sync.backfill.backfill`` with no request throttle. Checks every order earned exactly once.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import responses  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402

from bench.common import bench_settings, databases  # noqa: E402
from bridge import features  # noqa: E402
from bridge.bootstrap import prepare_database  # noqa: E402
from bridge.config import Settings  # noqa: E402
from bridge.connectors.woocommerce.api import WooClient  # noqa: E402
from bridge.runtime import Runtime  # noqa: E402
from bridge.storage import db  # noqa: E402
from bridge.storage import tables as t  # noqa: E402
from bridge.sync.backfill import AWARD, HISTORY_ONLY, backfill  # noqa: E402
from tests.support import woo  # noqa: E402
from tests.support.woo_rest import CONSUMER_KEY, CONSUMER_SECRET, SHOP_URL, FakeWooShop  # noqa: E402

TARGET = 1000.0
SHOP = "bench"


HISTORY_RULES = [  # rules that read the member's past orders: one or two more queries per order
    {"id": "base", "type": "per_amount", "points": 1, "per": 1},
    {"id": "welcome", "type": "first_order", "points": 100},
]


def settings_for(database_url: str, data_dir: Path, referrals: bool = False, history_rules: bool = False) -> Settings:
    shop = {
        "id": SHOP,
        "url": SHOP_URL,
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "webhook_secret": woo.SECRET,
        "currency": "USD",
    }
    program: dict[str, Any] = {"referrals": {"enabled": referrals}}
    if history_rules:
        program["earn"] = {"rules": HISTORY_RULES}
    return bench_settings(database_url, data_dir, {"shops": [shop], "program": program})


def run(
    database_url: str, data_dir: Path, count: int, mode: str, referrals: bool = False, history_rules: bool = False
) -> float:
    features.load()  # the order observers, as in the worker
    rt = Runtime.build(settings_for(database_url, data_dir, referrals, history_rules))
    prepare_database(rt, migrate_schema=True)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        shop = FakeWooShop(rsps).install()
        for i in range(count):
            shop.put_order(100_000 + i, email=f"past{i}@example.test", created=f"2025-{1 + i % 12:02d}-15T12:00:00")
        client = WooClient.for_shop(rt.settings.shop(SHOP))  # type: ignore[arg-type]
        started = time.perf_counter()
        fetched = sum(len(p.items) for p in client.pages("orders", orderby="id", order="asc", after="2025-01-01"))
        shop_alone = time.perf_counter() - started
        calls = []  # statements sent to the database (an executemany counts once: psycopg pipelines it)
        event.listen(rt.engine, "before_cursor_execute", lambda *args: calls.append(1))
        started = time.perf_counter()
        report = backfill(rt, SHOP, since=_since(), mode=mode, rate=0)
        elapsed = time.perf_counter() - started
    with db.read(rt.engine) as conn:
        earns = conn.scalar(select(func.count()).select_from(t.ledger_entry).where(t.ledger_entry.c.kind == "earn"))
        states = conn.scalar(select(func.count()).select_from(t.order_state))
    rt.close()
    expected_earns = count * (1 + history_rules) if mode == AWARD else 0  # each shopper's first order
    ok = states == count and earns == expected_earns and fetched == count
    rate = count / elapsed
    sys.stdout.write(
        f"  shop alone: {fetched} orders fetched in {shop_alone:.2f} s = {fetched / shop_alone:,.0f}/s\n"
        f"  backfill --{mode}: {count} orders in {elapsed:.2f} s = {rate:,.0f} orders/s "
        f"({report.requests} requests, {len(calls) / count:.2f} statements per order); {states} orders, "
        f"{earns} earn entries: {'OK' if ok else 'WRONG'}\n"
    )
    return rate


def _since():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2025, 1, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--mode", choices=(AWARD, HISTORY_ONLY), default=AWARD)
    parser.add_argument("--referrals", action="store_true", help="referrals enabled: their observer sees each order")
    parser.add_argument("--history-rules", action="store_true", help="a first-order bonus: reads each member's past")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as tmp:
        for label, url in databases(args.db, Path(tmp)):
            sys.stdout.write(f"{label}:\n")
            rate = run(url, Path(tmp), args.count, args.mode, args.referrals, args.history_rules)
            if label == "PostgreSQL":  # the target is for PostgreSQL
                sys.stdout.write(f"  target >= {TARGET:,.0f}/s: {'met' if rate >= TARGET else 'NOT met'}\n")


if __name__ == "__main__":
    main()
