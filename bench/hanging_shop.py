"""Webhook intake while the worker waits for a hanging shop (issue 12, section 3).

    .venv/bin/python bench/hanging_shop.py [--requests 2000] [--concurrency 8] [--db sqlite|postgresql]

The bridge as ``bridge run`` runs it, in separate processes: gunicorn for the web side (2 workers, gthread,
4 threads, as ``bench/ingest.py``) and a ``bridge worker``, over SQLite (WAL) or PostgreSQL and a real
redis-server. A category earning rule makes the worker ask the shop for product categories; the shop
(``tests/support/hanging_shop.py``, a real loopback server) does not answer. Once the worker is waiting on the
shop (and after ``--warmup`` deliveries), ``--requests`` signed order deliveries are posted with
``--concurrency`` keep-alive clients, and their latencies measured. Then the shop comes back and the script
waits until every delivery is applied.

``--shop both`` (the default) first runs the same load with a shop that answers (the worker applying deliveries
as they come): the baseline, on the same machine. Prints p50/p90/p99 of the intake, how many deliveries were
refused or timed out (target: none), whether the worker was still waiting on the shop when the load ended, and
how long the backlog took once the shop answered. Target: p99 < 25 ms. Exits 0.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import databases  # noqa: E402
from bench.ingest import free_port, gunicorn  # noqa: E402
from bridge.embedded_redis import EmbeddedRedis  # noqa: E402
from bridge.storage.db import make_engine  # noqa: E402
from tests.support import woo  # noqa: E402
from tests.support.hanging_shop import HangingShop  # noqa: E402

SHOP = "bench"
COFFEE = [{"id": 15, "name": "Coffee", "slug": "coffee"}]  # product 10, the captured order's line
RULE = {"id": "coffee2x", "type": "multiplier", "categories": ["coffee"], "multiplier": 2}


def post_all(port: int, bodies: list[tuple[bytes, dict[str, str]]], concurrency: int) -> tuple[list[float], int]:
    """Post every delivery; returns the latencies of those answered 200 and how many were not (or timed out)."""
    latencies: list[float] = []
    refused = 0
    lock = threading.Lock()
    path = f"/webhooks/woocommerce/{SHOP}"

    def client(chunk: list[tuple[bytes, dict[str, str]]]) -> None:
        nonlocal refused
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)  # WooCommerce waits up to 60 s
        mine, bad = [], 0
        for body, headers in chunk:
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                ok = False
            if ok:
                mine.append(time.perf_counter() - started)
            else:
                bad += 1
        with lock:
            latencies.extend(mine)
            refused += bad

    threads = [threading.Thread(target=client, args=(bodies[i::concurrency],)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, refused


def deliveries(count: int, first_id: int) -> list[tuple[bytes, dict[str, str]]]:
    base = woo.payload("order.updated.processing-paid")
    out = []
    for i in range(count):
        base["id"] = first_id + i
        body, headers = woo.signed("order.updated.processing-paid", base)
        out.append((body, {**headers, "Content-Type": "application/json"}))
    return out


def inbox_counts(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT state, count(*) FROM inbox_delivery GROUP BY state")).all()
        return {str(state): int(count) for state, count in rows}
    finally:
        engine.dispose()


def run(label: str, database_url: str, data: Path, args: argparse.Namespace, hanging: bool) -> None:
    redis = EmbeddedRedis(data / "redis.sock").start()
    shop = HangingShop({10: COFFEE}, max_hold_seconds=3600).start()
    if not hanging:
        shop.release()  # the baseline: the same load while the worker applies deliveries as they come
    procs: list[subprocess.Popen[bytes]] = []
    try:
        config = data / "config.yaml"
        shop_config = {
            "id": SHOP,
            "url": shop.url,
            "consumer_key": "ck_bench",
            "consumer_secret": "cs_bench",
            "webhook_secret": woo.SECRET,
            "currency": "USD",
        }
        settings = {
            "data_dir": str(data),
            "database_url": database_url,
            "redis_url": f"unix://{data / 'redis.sock'}",
            "shops": [shop_config],
            "program": {"earn": {"rules": [RULE], "release": "on_payment"}},
        }
        config.write_text(yaml.safe_dump(settings))
        env = {**os.environ, "BRIDGE_CONFIG": str(config), "BRIDGE_LOG_LEVEL": "ERROR"}
        upgrade = [sys.executable, "-m", "bridge", "db", "upgrade"]
        subprocess.run(upgrade, env=env, check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        procs.append(gunicorn("bridge:create_app()", port, env))
        procs.append(subprocess.Popen([sys.executable, "-m", "bridge", "worker"], env=env, cwd=ROOT))
        _, refused_warm = post_all(port, deliveries(1, 700_000), 1)  # the worker takes it and asks the shop
        if hanging and not shop.waiting.wait(30):
            raise SystemExit("the worker never asked the shop for categories")
        _, refused_warm2 = post_all(port, deliveries(args.warmup, 750_000), args.concurrency)  # not measured
        refused_warm += refused_warm2
        bodies = deliveries(args.requests, 800_000)
        started = time.perf_counter()
        latencies, refused = post_all(port, bodies, args.concurrency)
        elapsed = time.perf_counter() - started
        still_waiting = shop.holding > 0
        shop.release()
        released = time.perf_counter()
        total = args.requests + args.warmup + 1
        while inbox_counts(database_url).get("pending") and time.perf_counter() - released < 600:
            time.sleep(0.2)
        backlog = time.perf_counter() - released
        counts = inbox_counts(database_url)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        shop.stop()
        redis.stop()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    out = sys.stdout.write
    doing = "the worker waiting on a hanging shop" if hanging else "the shop answering (baseline)"
    out(f"{label}: {args.requests} deliveries, {args.concurrency} clients, {doing}\n")
    out(f"  intake   {len(latencies) / elapsed:8,.0f} req/s   p50 {q[49] * 1000:6.1f} ms   p90 {q[89] * 1000:6.1f} ms")
    out(f"   p99 {q[98] * 1000:6.1f} ms   max {max(latencies, default=0) * 1000:7.1f} ms\n")
    out(f"  refused or timed out: {refused + refused_warm}; stored: {sum(counts.values())} of {total}; ")
    if hanging:
        out(f"worker still waiting on the shop when the load ended: {'yes' if still_waiting else 'NO'}")
    out("\n")
    out(f"  once the shop answered: {counts.get('done', 0)} applied in {backlog:.1f} s; inbox {counts}\n")
    p99 = q[98] * 1000
    out(f"  p99 {p99:.1f} ms (target < 25 ms: {'met' if p99 < 25 and not refused else 'NOT met'})\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=200, help="deliveries posted first, not measured")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument(
        "--shop", choices=("hanging", "answering", "both"), default="both", help="both: a baseline round first"
    )
    args = parser.parse_args()
    modes = {"hanging": [True], "answering": [False], "both": [False, True]}[args.shop]
    with tempfile.TemporaryDirectory(prefix="bench-hanging-") as tmp:
        for hanging in modes:
            for label, url in databases(args.db, Path(tmp) / str(hanging)):
                data = Path(tmp) / str(hanging) / label.split()[0].lower()
                data.mkdir(parents=True)
                run(label, url, data, args, hanging)


if __name__ == "__main__":
    main()
