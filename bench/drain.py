"""Drain benchmark: inbox rows applied to the ledger per second (targets, issue 19: >= 3,000/s on SQLite, >= 1,500/s
on PostgreSQL, one worker).

    .venv/bin/python bench/drain.py [--db sqlite|postgresql|both] [--count 20000]

Inserts ``--count`` real order deliveries (order.updated.processing-paid, each with its own order id and
customer) into the SQL inbox through the receiver's storage call, then drains them with the drain job's own
function (``bridge.inbox.service.process_due``) until nothing is due, and checks every order earned once.
PostgreSQL runs in a throwaway cluster (tests/support/postgres.py). Prints figures and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.common import bench_settings, databases  # noqa: E402
from bridge import features  # noqa: E402
from bridge.bootstrap import prepare_database  # noqa: E402
from bridge.config import Settings  # noqa: E402
from bridge.inbox.service import process_due  # noqa: E402
from bridge.runtime import Runtime  # noqa: E402
from bridge.storage import db  # noqa: E402
from bridge.storage import inbox as inbox_store  # noqa: E402
from bridge.storage import tables as t  # noqa: E402
from bridge.storage.clock import utcnow  # noqa: E402
from tests.support import woo  # noqa: E402

TARGETS = {"SQLite (WAL)": 3000.0, "PostgreSQL": 1500.0}
SHOP = "bench"


def settings_for(database_url: str, data_dir: Path) -> Settings:
    shop = {"id": SHOP, "url": "http://127.0.0.1:8080", "webhook_secret": woo.SECRET, "currency": "USD"}
    return bench_settings(database_url, data_dir, {"inbox": {"batch_size": 200}, "shops": [shop]})


def run(database_url: str, data_dir: Path, count: int) -> float:
    features.load()  # the order observers, as in the worker
    rt = Runtime.build(settings_for(database_url, data_dir))
    prepare_database(rt, migrate_schema=True)
    base = woo.payload("order.updated.processing-paid")
    headers = woo.headers_of("order.updated.processing-paid")
    with db.write(rt.engine) as conn:
        for i in range(count):
            base["id"] = 100_000 + i
            base["customer_id"] = 0
            base["billing"]["email"] = f"shopper{i}@example.test"
            body, signed_headers = woo.signed("order.updated.processing-paid", base)
            inbox_store.add(
                conn,
                program_id=rt.settings.program.id,
                shop_id=SHOP,
                topic="order.updated",
                resource_id=str(base["id"]),
                platform_delivery_id="",
                headers={k: v for k, v in signed_headers.items() if k.lower().startswith("x-wc-")} or headers,
                body=body,
                now=utcnow(),
            )
    started, cpu_started = time.perf_counter(), time.process_time()
    done = 0
    while (n := process_due(rt, SHOP)) > 0:
        done += n
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started  # this process only (not PostgreSQL's): steadier on a busy machine
    with db.read(rt.engine) as conn:
        entries = conn.scalar(select(func.count()).select_from(t.ledger_entry)) or 0
        members = conn.scalar(select(func.count()).select_from(t.member)) or 0
    rt.close()
    rate = done / elapsed
    sys.stdout.write(
        f"  {done} deliveries in {elapsed:.1f} s = {rate:,.0f}/s ({cpu:.1f} s of the drain's CPU = {done / cpu:,.0f}"
        f" per CPU second); {members} members, {entries} ledger entries\n"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--count", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-drain-") as tmp:
        for label, url in databases(args.db, Path(tmp)):
            sys.stdout.write(f"{label}:\n")
            rate = run(url, Path(tmp), args.count)
            target = TARGETS[label]
            sys.stdout.write(f"  target >= {target:,.0f}/s: {'met' if rate >= target else 'NOT met'}\n")


if __name__ == "__main__":
    main()
