"""Redemption benchmark: redemptions/s against a zero-latency shop, and the latency the bridge adds to the shop's.

    .venv/bin/python bench/redeem.py [--db sqlite|postgresql|both] [--count 1000]

The shop is the test suite's REST model of WooCommerce (tests/support/woo_rest.py) behind ``responses``: no
network, so every millisecond measured is the bridge's own (the model's own cost is measured separately as
"shop alone": one ``WooClient.create_coupon`` call, as the service makes it). Two paths are timed, one
redemption after another:

- service: ``bridge.redemption.service.redeem`` (reserve transaction with the member lock and the debit, the
  coupon call, the ``issued`` transaction);
- http: ``POST /widget/v1/redemptions`` through Flask's test client (token check, rate limit in a real
  redis-server, validation, the same service call, JSON).

Added latency = median(redeem) - median(shop alone). Prints figures and exits 0.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import responses

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bridge import create_app  # noqa: E402
from bridge.bootstrap import prepare_database  # noqa: E402
from bridge.config import Settings, load_settings  # noqa: E402
from bridge.connectors.woocommerce.api import WooClient  # noqa: E402
from bridge.embedded_redis import EmbeddedRedis  # noqa: E402
from bridge.ledger import service as ledger  # noqa: E402
from bridge.redemption import service as redemptions  # noqa: E402
from bridge.runtime import Runtime  # noqa: E402
from bridge.storage import db, migrate  # noqa: E402
from bridge.storage import members as member_store  # noqa: E402
from bridge.web.widget_auth import issue_token  # noqa: E402
from tests.support.postgres import PostgresCluster, find_bindir  # noqa: E402
from tests.support.woo_rest import SHOP_URL, FakeWooShop  # noqa: E402

WIDGET_SECRET = "bench-widget-secret-0123456789abcdef"
MEMBERS = 20


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL server binaries (apt-get install postgresql)")
    cluster = PostgresCluster(bindir).start()
    try:
        yield cluster.create_database("bench")
    finally:
        cluster.stop()


def settings_for(database_url: str, redis_url: str, workdir: Path) -> Settings:
    config = workdir / "config.yaml"
    config.write_text("{}\n")
    overrides: dict[str, Any] = {
        "data_dir": str(workdir / "data"),
        "database_url": database_url,
        "redis_url": redis_url,
        "log_level": "WARNING",
        "program": {
            "id": "club",
            "rewards": [{"id": "five-off", "title": "5.00 off", "type": "fixed_cart", "points": 10, "value": 5}],
            "redemption": {"rate_limit_per_minute": 1_000_000},
        },
        "shops": [
            {
                "id": "shop1",
                "url": SHOP_URL,
                "consumer_key": "ck_test",
                "consumer_secret": "cs_test",
                "webhook_secret": "bench-webhook-secret",
                "widget_secret": WIDGET_SECRET,
                "currency": "USD",
            }
        ],
    }
    return load_settings(config, environ={}, overrides=overrides)


def seed(rt: Runtime, count: int) -> list[int]:
    ids = []
    with db.write(rt.engine) as conn:
        for n in range(MEMBERS):
            member_id = member_store.get_or_create(conn, "club", f"member{n}@example.test", "shop1")
            member_store.link_identity(conn, "club", "shop1", str(1000 + n), member_id)
            ledger.adjust(
                conn,
                program_id="club",
                member_id=member_id,
                points=10 * (4 * count + 10),
                reason="bench",
                actor="bench",
                request_key=f"bench-{n}",
            )
            ids.append(member_id)
    return ids


def timed(count: int, call: Callable[[int], None]) -> list[float]:
    durations = []
    for n in range(count):
        start = time.perf_counter()
        call(n)
        durations.append(time.perf_counter() - start)
    return durations


def concurrent(count: int, threads: int, call: Callable[[int, int], None]) -> float:
    """Redemptions/s with ``threads`` callers at once (as gunicorn threads serve them); each thread redeems for
    its own members, so the figure is throughput, not lock contention on one balance."""
    barrier = threading.Barrier(threads + 1)

    def work(k: int) -> None:
        barrier.wait()
        for n in range(count // threads):
            call(k, n)

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in pool:
        thread.join()
    return (count // threads) * threads / (time.perf_counter() - start)


def _process_worker(settings: Settings, member_ids: list[int], count: int, ready: Any, go: Any, results: Any) -> None:
    """One server process (as one gunicorn worker): its own engine and its own in-process shop model."""
    rt = Runtime.build(settings)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeWooShop(rsps).install()
        ready.release()
        go.wait()
        start = time.perf_counter()
        for n in range(count):
            result = redemptions.redeem(
                rt,
                shop_id="shop1",
                member_id=member_ids[n % len(member_ids)],
                reward_id="five-off",
                points=None,
                request_key=uuid.uuid4().hex,
                channel="widget",
            )
            assert result.redemption.state == "issued", result.redemption
        results.put((start, time.perf_counter()))
    rt.close()


def processes(settings: Settings, members: list[int], count: int, workers: int) -> float:
    """Redemptions/s with ``workers`` processes at once, each redeeming for its own members."""
    ctx = multiprocessing.get_context("spawn")
    ready, go, results = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    per = count // workers
    procs = [
        ctx.Process(target=_process_worker, args=(settings, members[k::workers], per, ready, go, results))
        for k in range(workers)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.acquire()
    go.set()
    spans = [results.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join()
    return per * workers / (max(end for _, end in spans) - min(start for start, _ in spans))


def report(name: str, durations: list[float], shop_alone: float | None = None) -> None:
    total = sum(durations)
    median = statistics.median(durations)
    p95 = sorted(durations)[int(len(durations) * 0.95)]
    line = f"  {name:<11} {len(durations) / total:8.1f}/s   median {median * 1000:6.2f} ms   p95 {p95 * 1000:6.2f} ms"
    if shop_alone is not None:
        line += f"   added over the shop's own: {(median - shop_alone) * 1000:6.2f} ms"
    print(line, flush=True)


def run(kind: str, count: int, threads: int, workers: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-redeem-") as tmp:
        workdir = Path(tmp)
        redis = EmbeddedRedis(workdir / "redis.sock").start()
        try:
            with database(kind, workdir) as url:
                settings = settings_for(url, redis.url, workdir)
                app = create_app(settings)
                rt: Runtime = app.extensions["bridge"]
                migrate.upgrade(rt.engine)
                prepare_database(rt, migrate_schema=False)
                members = seed(rt, count)
                shop_settings = settings.shops[0]
                with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
                    fake = FakeWooShop(rsps).install()
                    body = {"discount_type": "fixed_cart", "amount": "5.00", "usage_limit": 1, "meta_data": []}

                    def shop_alone(n: int) -> None:
                        WooClient.for_shop(shop_settings).create_coupon({**body, "code": f"alone{n}"})

                    def service(n: int) -> None:
                        result = redemptions.redeem(
                            rt,
                            shop_id="shop1",
                            member_id=members[n % MEMBERS],
                            reward_id="five-off",
                            points=None,
                            request_key=uuid.uuid4().hex,
                            channel="widget",
                        )
                        assert result.redemption.state == "issued", result.redemption

                    tokens = [
                        issue_token(shop_settings, str(1000 + n), f"member{n}@example.test") for n in range(MEMBERS)
                    ]
                    client = app.test_client()

                    def http(n: int) -> None:
                        response = client.post(
                            "/widget/v1/redemptions",
                            json={"reward_id": "five-off"},
                            headers={
                                "Authorization": f"Bearer {tokens[n % MEMBERS]}",
                                "Idempotency-Key": uuid.uuid4().hex,
                            },
                        )
                        assert response.status_code == 201, response.get_json()

                    for warm in (shop_alone, service, http):
                        timed(20, lambda n, f=warm: f(100_000 + n))  # type: ignore[misc]
                    # The model checks a new code against every coupon it holds: start each phase equal.
                    fake.coupons.clear()
                    alone = timed(count, shop_alone)
                    shop_median = statistics.median(alone)
                    print(f"{kind}: {count} redemptions each, {MEMBERS} members, zero-latency shop")
                    report("shop alone", alone)
                    fake.coupons.clear()
                    report("service", timed(count, service), shop_median)
                    fake.coupons.clear()
                    report("http", timed(count, lambda n: http(count + n)), shop_median)
                    fake.coupons.clear()

                    def service_for(k: int, n: int) -> None:
                        result = redemptions.redeem(
                            rt,
                            shop_id="shop1",
                            member_id=members[(k + n * threads) % MEMBERS],
                            reward_id="five-off",
                            points=None,
                            request_key=uuid.uuid4().hex,
                            channel="widget",
                        )
                        assert result.redemption.state == "issued", result.redemption

                    rate = concurrent(count, threads, service_for)
                    print(f"  {'service':<11} {rate:8.1f}/s   with {threads} threads in one process", flush=True)
                rate = processes(settings, members, count, workers)
                print(f"  {'service':<11} {rate:8.1f}/s   with {workers} processes at once", flush=True)
                rt.close()
        finally:
            redis.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        run(kind, args.count, args.threads, args.processes)


if __name__ == "__main__":
    main()
