"""A big club on PostgreSQL (issue 19): the member balance read, webhook ingest and the drain at 1M members.

    .venv/bin/python bench/balance_read.py [--members 1000000] [--reads 2000] [--drain 3000] [--requests 3000]

Seeds a throwaway PostgreSQL cluster with COPY (``bench.common.copy_tables``; the members, shop accounts, orders and
ledger of ``bench/console.py``'s seeder plus one more entry per member): 1,000,000 members give about 10,000,000
ledger entries. A second database in the same cluster stays empty (migrated only). Then:

- **balance read** (big database): the service call the widget makes (``bridge.ledger.service.balance`` in a read
  transaction) and the widget's whole ``GET /widget/v1/panel`` through the app (Flask's test client, a signed
  shopper token: token check, the member behind the shop account, every panel section), ``--reads`` times each
  for random members; p50/p95/p99. Target: p99 < 5 ms for the balance. Beside it, measured alternately with it,
  the same read transaction around ``SELECT 1`` (what the machine costs whatever the query: on a loaded shared
  machine that is most of it) and the balance statement's own time inside PostgreSQL (``EXPLAIN ANALYZE``).
- **drain** (``bench/drain.py``'s method, ``process_due`` over ``--drain`` new shoppers' order deliveries): the
  empty and the big database alternately, ``--rounds`` times (median). Target: the big one within 20% of the empty.
- **ingest** (``bench/ingest.py``'s method: gunicorn, 2 workers x 4 threads, keep-alive clients posting signed
  deliveries, alternating rounds, median round): a bare Flask endpoint, the bridge on the empty database and the
  bridge on the big one, the same redis-server. Target: the big one's rate within 20% of the empty one's.

Prints figures and the load average; exits 0.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import console, drain, ingest  # noqa: E402
from bench.common import bench_settings, copy_tables  # noqa: E402
from bench.scaleout import RedisServer, loadavg  # noqa: E402
from bridge import create_app  # noqa: E402
from bridge.bootstrap import prepare_database  # noqa: E402
from bridge.inbox.service import process_due  # noqa: E402
from bridge.ledger import service as ledger  # noqa: E402
from bridge.runtime import Runtime  # noqa: E402
from bridge.storage import db  # noqa: E402
from bridge.storage import inbox as inbox_store  # noqa: E402
from bridge.storage.clock import utcnow  # noqa: E402
from bridge.web.widget_auth import issue_token  # noqa: E402
from tests.support import woo  # noqa: E402
from tests.support.postgres import PostgresCluster, find_bindir  # noqa: E402

SHOP = console.SHOP
WIDGET_SECRET = "bench-widget-secret-0123456789abcdef"
BALANCE_TARGET_MS = 5.0
SAME_WITHIN = 0.20


def settings_for(database_url: str, data_dir: Path) -> Any:
    shop = {
        "id": SHOP,
        "url": "http://127.0.0.1:8080",
        "webhook_secret": woo.SECRET,
        "widget_secret": WIDGET_SECRET,
        "currency": "USD",
    }
    rewards = [{"id": "five-off", "title": "5 off", "type": "fixed_cart", "points": 500, "value": "5.00"}]
    return bench_settings(database_url, data_dir, {"program": {"rewards": rewards}, "shops": [shop]})


def extra_rows(members: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    """One adjustment per member on top of the console seeder's ~9.1 entries: ~10 entries per member."""
    for m in range(1, members + 1):
        at = console.joined_at(m, members, now) + timedelta(days=1)
        key = f"{console.PROGRAM}:adjust-extra:{m}"
        yield (console.PROGRAM, SHOP, m, 3, "adjust", "available", at, None, "admin", str(m), "", "", key, "", "{}", at)


def seed(rt: Runtime, members: int, now: datetime) -> float:
    def ledger_rows() -> Iterator[tuple[Any, ...]]:
        yield from console.ledger_rows(members, now)
        yield from extra_rows(members, now)

    return copy_tables(
        rt,
        (
            ("member", console.MEMBER_COLUMNS, console.member_rows(members, now)),
            ("member_identity", console.IDENTITY_COLUMNS, console.identity_rows(members, now)),
            ("order_state", console.ORDER_COLUMNS, console.order_rows(members, now)),
            ("ledger_entry", console.LEDGER_COLUMNS, ledger_rows()),
        ),
    )


def percentiles(label: str, seconds: list[float], target_ms: float | None = None) -> float:
    q = statistics.quantiles(seconds, n=100)
    p99 = q[98] * 1000
    verdict = (
        "" if target_ms is None else f"   (target p99 < {target_ms:.0f} ms: {'met' if p99 < target_ms else 'NOT met'})"
    )
    sys.stdout.write(
        f"  {label:<34} p50 {q[49] * 1000:6.2f} ms   p95 {q[94] * 1000:6.2f} ms   p99 {p99:6.2f} ms{verdict}\n"
    )
    return p99


def timed(reads: int, call: Callable[[int], object]) -> list[float]:
    for i in range(min(50, reads)):  # warm: plans cached, the app's first-request work done
        call(i)
    seconds = []
    for i in range(reads):
        started = time.perf_counter()
        call(i)
        seconds.append(time.perf_counter() - started)
    return seconds


def timed_pair(reads: int, a: Callable[[int], object], b: Callable[[int], object]) -> tuple[list[float], list[float]]:
    """``a`` and ``b`` alternately, so both see the same moments of a shared machine."""
    for i in range(min(50, reads)):
        a(i)
        b(i)
    seconds_a, seconds_b = [], []
    for i in range(reads):
        for call, seconds in ((a, seconds_a), (b, seconds_b)):
            started = time.perf_counter()
            call(i)
            seconds.append(time.perf_counter() - started)
    return seconds_a, seconds_b


def server_seconds(rt: Runtime, member_ids: list[int]) -> list[float]:
    """The balance statement's execution time inside PostgreSQL (``EXPLAIN ANALYZE`` of the very statement
    ``ledger.balance`` sends, caught on its way out), without the client's part."""
    sent: list[tuple[str, dict[str, Any]]] = []

    def catch(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append((statement, dict(parameters)))

    with db.read(rt.engine) as conn:
        event.listen(rt.engine, "before_cursor_execute", catch)
        try:
            ledger.balance(conn, member_ids[0])
        finally:
            event.remove(rt.engine, "before_cursor_execute", catch)
        statement, parameters = sent[-1]
        member_key = next(k for k, v in parameters.items() if k.startswith("member_id") and v == member_ids[0])
        out = []
        for member_id in member_ids:
            plan = conn.exec_driver_sql(
                f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", {**parameters, member_key: member_id}
            ).scalar()
            out.append(plan[0]["Execution Time"] / 1000)
    return out


def balance_reads(rt: Runtime, members: int, reads: int) -> None:
    rng = random.Random(11)
    picks = [rng.randint(1, members) for _ in range(reads)]

    def service(i: int) -> object:
        with db.read(rt.engine) as conn:
            return ledger.balance(conn, picks[i])

    def floor(i: int) -> object:
        # The same read transaction around a query that reads nothing: what the machine (pool checkout, round
        # trips, a loaded scheduler) costs whatever the query. Measured in the same loop as the balance.
        with db.read(rt.engine) as conn:
            return conn.exec_driver_sql("SELECT 1").scalar()

    balance_seconds, floor_seconds = timed_pair(reads, service, floor)
    percentiles("balance (ledger.balance)", balance_seconds, BALANCE_TARGET_MS)
    percentiles("  the same transaction, SELECT 1", floor_seconds)
    percentiles("  its query inside PostgreSQL", server_seconds(rt, picks[: min(reads, 500)]))

    app = create_app(rt.settings)
    client = app.test_client()
    shop = rt.settings.shop(SHOP)
    assert shop is not None
    tokens = [issue_token(shop, str(m), console.email(m), ttl_seconds=3600) for m in picks]

    def panel(i: int) -> object:
        response = client.get("/widget/v1/panel", headers={"Authorization": f"Bearer {tokens[i]}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.json is not None and response.json["member"]["joined"]
        return response

    percentiles("GET /widget/v1/panel (whole panel)", timed(reads, panel))


def ingest_rounds(urls: dict[str, str], data: Path, requests: int, rounds: int, concurrency: int) -> dict[str, float]:
    """``bench/ingest.py``'s method over the given databases (plus the bare endpoint): median rate of each."""
    data.mkdir(parents=True, exist_ok=True)
    redis = RedisServer(data)
    procs: dict[str, tuple[subprocess.Popen[bytes], int, str]] = {}
    rates: dict[str, list[float]] = {name: [] for name in ("bare", *urls)}
    p99s: dict[str, list[float]] = {name: [] for name in rates}
    try:
        bodies = ingest.deliveries(requests + 200)
        for name in rates:
            folder = data / name
            folder.mkdir(parents=True)
            config = folder / "config.yaml"
            shop = {"id": SHOP, "url": "http://127.0.0.1:8080", "webhook_secret": woo.SECRET, "currency": "USD"}
            settings: dict[str, Any] = {"data_dir": str(folder), "redis_url": redis.url, "shops": [shop]}
            if name != "bare":
                settings["database_url"] = urls[name]
            config.write_text(yaml.safe_dump(settings))
            env = {**os.environ, "BRIDGE_CONFIG": str(config), "BRIDGE_LOG_LEVEL": "WARNING"}
            env.pop("PROMETHEUS_MULTIPROC_DIR", None)
            app, path = ("bench.bare_app:app", "/bare") if name == "bare" else ("bridge:create_app()", "")
            port = ingest.free_port()
            procs[name] = (ingest.gunicorn(app, port, env), port, path or f"/webhooks/woocommerce/{SHOP}")
            first_answer(port, procs[name][2], bodies[0])
            ingest.load(port, procs[name][2], bodies[1:200], concurrency)  # warm-up
        for _ in range(rounds):
            for name, (_, port, path) in procs.items():
                rate, latencies = ingest.load(port, path, bodies[200:], concurrency)
                rates[name].append(rate)
                p99s[name].append(statistics.quantiles(latencies, n=100)[98] * 1000)
    finally:
        for proc, _, _ in procs.values():
            proc.terminate()
            proc.wait(10)
        redis.stop()
    out = {}
    for name in rates:
        out[name] = statistics.median(rates[name])
        sys.stdout.write(
            f"  ingest {name:<6} {out[name]:8,.0f} req/s (median of {rounds} rounds: "
            f"{', '.join(f'{r:,.0f}' for r in rates[name])}), p99 {statistics.median(p99s[name]):.1f} ms\n"
        )
    return out


def analyze_empty(database_url: str, data: Path) -> None:
    """Migrate the empty database and give it planner statistics, as the seeded one has (copy_tables ends with
    VACUUM ANALYZE) and autovacuum gives any live database: without them PostgreSQL plans for tables it has never
    measured, and the empty database ran the drain and ingest at half the big one's rate."""
    rt = Runtime.build(settings_for(database_url, data))
    prepare_database(rt, migrate_schema=True)
    raw = rt.engine.raw_connection()
    try:
        pg = raw.driver_connection
        assert pg is not None
        pg.autocommit = True
        pg.execute("VACUUM ANALYZE")
    finally:
        raw.close()
    rt.close()


def drain_round(database_url: str, data_dir: Path, count: int, first_id: int) -> float:
    """``bench/drain.py``'s method: ``count`` new shoppers' paid orders put in the inbox as the receiver stores them,
    then drained with the drain job's own ``process_due``; returns deliveries/s. Order ids from ``first_id``."""
    rt = Runtime.build(drain.settings_for(database_url, data_dir))
    prepare_database(rt, migrate_schema=True)
    base = woo.payload("order.updated.processing-paid")
    with db.write(rt.engine) as conn:
        for i in range(first_id, first_id + count):
            base["id"] = i
            base["customer_id"] = 0
            base["billing"]["email"] = f"drain{i}@example.test"
            body, headers = woo.signed("order.updated.processing-paid", base)
            inbox_store.add(
                conn,
                program_id=rt.settings.program.id,
                shop_id=SHOP,
                topic="order.updated",
                resource_id=str(i),
                platform_delivery_id="",
                headers={k: v for k, v in headers.items() if k.lower().startswith("x-wc-")},
                body=body,
                now=utcnow(),
            )
    started = time.perf_counter()
    done = 0
    while (n := process_due(rt, SHOP)) > 0:
        done += n
    elapsed = time.perf_counter() - started
    rt.close()
    assert done == count, (done, count)
    return done / elapsed


def drain_rounds(urls: dict[str, str], data: Path, count: int, rounds: int) -> dict[str, float]:
    """Empty and big databases alternately, ``rounds`` times (a shared machine's load drifts): median of each."""
    rates: dict[str, list[float]] = {name: [] for name in urls}
    for r in range(rounds):
        for name, url in urls.items():
            folder = data / f"drain-{name}-{r}"
            folder.mkdir(parents=True)
            rates[name].append(drain_round(url, folder, count, 20_000_000 + r * count))
    out = {}
    for name, values in rates.items():
        out[name] = statistics.median(values)
        sys.stdout.write(
            f"  drain  {name:<6} {out[name]:8,.0f} deliveries/s (median of {rounds} rounds of {count:,}: "
            f"{', '.join(f'{v:,.0f}' for v in values)})\n"
        )
    return out


def first_answer(port: int, path: str, delivery: tuple[bytes, dict[str, str]]) -> None:
    """Wait for the first answer: gunicorn listens before its workers have loaded the app, which on a loaded machine
    takes longer than the load's 10 s timeout."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", path, body=delivery[0], headers=delivery[1])
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise SystemExit(f"{path} answered {response.status}")


def verdict(label: str, big: float, empty: float) -> None:
    ratio = big / empty
    ok = ratio >= 1 - SAME_WITHIN
    sys.stdout.write(f"  {label}: big / empty = {ratio:.0%} (target within 20%: {'met' if ok else 'NOT met'})\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=2000, help="balance reads and panel requests")
    parser.add_argument("--drain", type=int, default=3000, help="deliveries drained per round on each database")
    parser.add_argument("--requests", type=int, default=3000, help="ingest requests per round")
    parser.add_argument("--rounds", type=int, default=3, help="drain and ingest rounds (alternating; median)")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL: no server binaries (scripts/bootstrap --dev installs them)")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the migrations' lines, once per database
    sys.stdout.write(f"PostgreSQL, {args.members:,} members; load average {loadavg()}\n")
    cluster = PostgresCluster(bindir).start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-balance-") as tmp:
            data = Path(tmp)
            urls = {"empty": cluster.create_database("empty"), "big": cluster.create_database("big")}
            analyze_empty(urls["empty"], data)
            rt = Runtime.build(settings_for(urls["big"], data))
            prepare_database(rt, migrate_schema=True)
            seconds = seed(rt, args.members, utcnow())
            with db.read(rt.engine) as conn:
                members = conn.exec_driver_sql("SELECT count(*) FROM member").scalar()
                entries = conn.exec_driver_sql("SELECT count(*) FROM ledger_entry").scalar()
            sys.stdout.write(
                f"  seeded {members:,} members, {entries:,} ledger entries in {seconds:.0f} s (COPY, indexes "
                f"built after, VACUUM ANALYZE); load average {loadavg()}\n"
            )
            balance_reads(rt, args.members, args.reads)
            rt.close()
            sys.stdout.write(f"  load average {loadavg()}\n")
            drained = drain_rounds(urls, data / "drain", args.drain, args.rounds)
            verdict("drain", drained["big"], drained["empty"])
            sys.stdout.write(f"  load average {loadavg()}\n")
            rates = ingest_rounds(urls, data / "ingest", args.requests, args.rounds, args.concurrency)
            verdict("ingest", rates["big"], rates["empty"])
            sys.stdout.write(
                f"  ingest / bare: empty {rates['empty'] / rates['bare']:.0%}, big {rates['big'] / rates['bare']:.0%}"
                f"; load average {loadavg()}\n"
            )
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
