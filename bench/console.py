"""Console benchmark (issue 15): the Overview, a member search and a member page on a big club, on PostgreSQL.

    .venv/bin/python bench/console.py [--members 1000000] [--runs 20] [--lookups 200]

Seeds a throwaway PostgreSQL cluster with COPY: ``--members`` members joined evenly over two years, each with a
shop account (customer id), 2 orders (order_state) and about 10 ledger entries (sign-up award, 2 order awards
held 14 days then released as pairs, a spend, an adjustment, an expiry a year after joining): 1M members give
10M entries and 2M orders. Then it runs the report rollup (``bridge.reports.rollup.roll_up``, without the
worker's time budget: first build over every day, then an ordinary run) and times, over many runs, p50/p95 of:

- **overview**: ``bridge.reports.overview.overview``, every figure of the console's Overview page;
- **search by e-mail** (``bridge.storage.members.search``) and **by customer id** (``by_identity``);
- **member page**: the balance and the latest 50 ledger entries (``bridge.ledger.service.balance``/``history``).

Targets: p95 < 1 s for the overview, < 150 ms for a search and for a member page.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_settings, copy_tables, databases  # noqa: E402
from bridge.bootstrap import prepare_database  # noqa: E402
from bridge.ledger import service as ledger  # noqa: E402
from bridge.reports import overview as report  # noqa: E402
from bridge.reports import rollup  # noqa: E402
from bridge.runtime import Runtime  # noqa: E402
from bridge.storage import db  # noqa: E402
from bridge.storage import members as member_store  # noqa: E402
from bridge.storage.clock import utcnow  # noqa: E402

SHOP = "bench"
PROGRAM = "default"
HISTORY_DAYS = 730
HOLD = timedelta(days=14)
TARGETS = {"overview": 1.0, "search by e-mail": 0.150, "search by customer id": 0.150, "member page": 0.150}

LEDGER_COLUMNS = [
    "program_id", "shop_id", "member_id", "points", "kind", "state", "available_at", "expires_at",
    "cause_type", "cause_id", "rule_id", "refund_id", "idempotency_key", "note", "meta", "created_at",
]  # fmt: skip
ORDER_COLUMNS = [
    "program_id", "shop_id", "order_id", "member_id", "status", "total", "refunded_total", "date_modified",
    "cycle", "updated_at", "paid_at", "completed_at",
]  # fmt: skip
MEMBER_COLUMNS = ["id", "program_id", "email", "email_key", "first_shop_id", "created_at"]
IDENTITY_COLUMNS = ["program_id", "shop_id", "platform_customer_id", "member_id", "created_at"]


def settings_for(database_url: str, data_dir: Path) -> Any:
    rewards = [
        {"id": "five-off", "title": "5 off", "type": "fixed_cart", "points": 500, "value": "5.00"},
        {"id": "free-ship", "title": "Free shipping", "type": "free_shipping", "points": 300},
    ]
    shop = {"id": SHOP, "url": "http://127.0.0.1:8080", "webhook_secret": "s", "currency": "USD"}
    program = {"id": PROGRAM, "timezone": "Asia/Tehran", "rewards": rewards}
    return bench_settings(database_url, data_dir, {"program": program, "shops": [shop]})


def email(m: int) -> str:
    return f"m{m}@example.test"


def joined_at(m: int, members: int, now: datetime) -> datetime:
    return now - timedelta(days=HISTORY_DAYS) + timedelta(seconds=HISTORY_DAYS * 86400 * (m - 1) / members)


def member_rows(members: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    for m in range(1, members + 1):
        yield (m, PROGRAM, email(m), email(m), SHOP, joined_at(m, members, now))


def identity_rows(members: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    for m in range(1, members + 1):
        yield (PROGRAM, SHOP, str(m), m, joined_at(m, members, now))


def _orders(m: int, members: int, now: datetime, rng: random.Random) -> list[tuple[str, datetime, int]]:
    start = joined_at(m, members, now)
    span = (now - start).total_seconds()
    return [(f"{m}-{o}", start + timedelta(seconds=rng.random() * span), 20 + (m + o) % 80) for o in range(2)]


def order_rows(members: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(7)
    for m in range(1, members + 1):
        for order_id, at, points in _orders(m, members, now, rng):
            total = f"{points}.00"
            yield (PROGRAM, SHOP, order_id, m, "completed", total, "0", at, 1, at, at, at)


def ledger_rows(members: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(7)  # the same orders as order_rows
    for m in range(1, members + 1):
        start = joined_at(m, members, now)
        span = (now - start).total_seconds()

        def entry(
            points: int, kind: str, state: str, at: datetime, key: str, cause: tuple[str, str, str], m: int = m
        ) -> Any:
            return (PROGRAM, SHOP, m, points, kind, state, at, None, *cause, "", key, "", "{}", at)

        yield entry(50, "earn", "available", start, f"{SHOP}:signup:{m}", ("signup", str(m), "signup"))
        for order_id, at, points in _orders(m, members, now, rng):
            cause = ("order", order_id, "per_amount")
            key = f"{SHOP}:order:{order_id}:per_amount"
            yield entry(points, "earn", "pending", at, key, cause)
            if at + HOLD < now:
                yield entry(-points, "release", "pending", at + HOLD, f"{key}:release:out", cause)
                yield entry(points, "release", "available", at + HOLD, f"{key}:release", cause)
        spent_at = start + timedelta(seconds=rng.random() * span)
        yield entry(-40, "spend", "available", spent_at, f"{SHOP}:redeem:{m}", ("redemption", str(m), ""))
        adjusted_at = start + timedelta(seconds=rng.random() * span)
        yield entry(5, "adjust", "available", adjusted_at, f"{PROGRAM}:adjust:{m}", ("admin", str(m), ""))
        if start + timedelta(days=365) < now:
            expired_at = start + timedelta(days=365)
            yield entry(-10, "expire", "available", expired_at, f"{PROGRAM}:expire:{m}", ("expiry", str(m), ""))


def seed(rt: Runtime, members: int, now: datetime) -> float:
    return copy_tables(
        rt,
        (
            ("member", MEMBER_COLUMNS, member_rows(members, now)),
            ("member_identity", IDENTITY_COLUMNS, identity_rows(members, now)),
            ("order_state", ORDER_COLUMNS, order_rows(members, now)),
            ("ledger_entry", LEDGER_COLUMNS, ledger_rows(members, now)),
        ),
    )


def timed(label: str, runs: int, call: Callable[[int], object]) -> tuple[float, float]:
    call(0)  # warm: plans cached, pages in memory
    seconds = []
    for i in range(runs):
        started = time.perf_counter()
        call(i)
        seconds.append(time.perf_counter() - started)
    p50 = statistics.median(seconds)
    p95 = sorted(seconds)[max(0, round(0.95 * runs) - 1)]
    target = TARGETS[label]
    verdict = "met" if p95 < target else "NOT met"
    sys.stdout.write(
        f"  {label:<22} p50 {p50 * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms   "
        f"(target p95 < {target * 1000:.0f} ms: {verdict}; {runs} runs)\n"
    )
    return p50, p95


def run(database_url: str, data_dir: Path, members: int, runs: int, lookups: int) -> None:
    rt = Runtime.build(settings_for(database_url, data_dir))
    prepare_database(rt, migrate_schema=True)
    now = utcnow()
    seconds = seed(rt, members, now)
    with db.read(rt.engine) as conn:
        counts = {
            table: conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
            for table in ("member", "ledger_entry", "order_state")
        }
    sys.stdout.write(
        f"  seeded {counts['member']:,} members, {counts['ledger_entry']:,} ledger entries, "
        f"{counts['order_state']:,} orders in {seconds:.0f} s (COPY, indexes built after, VACUUM ANALYZE)\n"
    )
    for label in ("first build", "next run"):
        started = time.perf_counter()
        days = rollup.roll_up(rt.engine, PROGRAM, rt.settings.program.earning.timezone, now)  # no budget: all
        sys.stdout.write(f"  rollup job, {label}: {days} days derived in {time.perf_counter() - started:.1f} s\n")

    program = rt.settings.program

    def overview(_: int) -> object:
        with db.read(rt.engine) as conn:
            figures = report.overview(
                conn,
                program_id=program.id,
                timezone=program.earning.timezone,
                rewards=program.rewards,
                shops=rt.settings.shops,
                now=now,
            )
        assert figures.members == members
        return figures

    rng = random.Random(11)
    picks = [rng.randint(1, members) for _ in range(lookups + 1)]

    def by_email(i: int) -> object:
        with db.read(rt.engine) as conn:
            found = member_store.search(conn, PROGRAM, email(picks[i]), 20)
        assert found and found[0]["id"] == picks[i]
        return found

    def by_customer(i: int) -> object:
        with db.read(rt.engine) as conn:
            found = member_store.by_identity(conn, SHOP, str(picks[i]))
        assert found == picks[i]
        return found

    def member_page(i: int) -> object:
        with db.read(rt.engine) as conn:
            return ledger.balance(conn, picks[i]), ledger.history(conn, picks[i], 50)

    figures = overview(0)
    assert isinstance(figures, report.Overview)
    sys.stdout.write(
        f"  overview: {figures.members:,} members, {figures.active_members:,} active in 90 days, "
        f"liability {figures.liability.available:,} available / {figures.liability.pending:,} pending points "
        f"= {figures.liability.available_value} {figures.liability.currency}; last 30 days issued "
        f"{figures.flow.issued:,}, redeemed {figures.flow.redeemed:,}\n"
    )
    timed("overview", runs, overview)
    timed("search by e-mail", lookups, by_email)
    timed("search by customer id", lookups, by_customer)
    timed("member page", lookups, member_page)
    rt.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20, help="overview runs")
    parser.add_argument("--lookups", type=int, default=200, help="searches and member pages")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        for label, url in databases("postgresql", Path(tmp)):
            sys.stdout.write(f"{label}:\n")
            run(url, Path(tmp), args.members, args.runs, args.lookups)


if __name__ == "__main__":
    main()
