"""Scale-out proof (issue 19): separate processes sharing nothing but PostgreSQL and one external redis-server.

    .venv/bin/python bench/scaleout.py [--deliveries 50000] [--shoppers 20000] [--workers 1 3] [--clients 8]

For each worker count (1, then 3): a fresh database in a throwaway PostgreSQL cluster (``bench.common``), a
``redis-server`` on a free loopback TCP port (``redis://127.0.0.1:<port>``: the "external Redis" of a real
deployment, not the embedded unix socket), a config file in a temp dir (one shop with a webhook secret, an admin
key), ``bridge db upgrade``, then 2 x ``bridge serve`` (gunicorn, each on its own port) and N x ``bridge worker``,
each its own process started as an operator would start it.

The load: ``--deliveries`` signed WooCommerce deliveries for ``--shoppers`` shoppers, made from the captured
payloads in ``tests/fixtures/woocommerce`` with their ids, e-mails and totals rewritten and re-signed as the shop
signs them: every shopper's paid order(s) (``order.updated.processing-paid``), a later partial refund
(``order.updated.partial-refund``, status completed) or full refund (``order.updated.fully-refunded``) for
about a quarter of the orders, and ``customer.created`` for about half the shoppers (sign-up bonus). 10% of the
deliveries are sent twice (the same bytes and delivery id, as WooCommerce re-sends); all are shuffled, so a refund
often arrives before the payment it refunds. ``--clients`` threads post them with keep-alive connections,
alternating between the two web servers. In a run with more than one worker, one worker is SIGKILLed once half
the deliveries were posted, and a replacement is started.

When the inbox holds nothing pending, the ledger is compared per member (by the shop's customer id) with the
balance the script computes on its own from the orders it generated (the config's rule: 1 point per currency
unit of line totals, rounded down; refunds take back ``floor(points * refunded / order total)``, a full refund
everything; 25 points per sign-up) and must be exactly equal: every shopper one member, no delivery failed.
Prints deliveries/s end to end (the first POST to the last delivery applied, ``inbox_delivery.processed_at``)
for each worker count, and the intake alone. Exits 1 when a ledger differs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.common import databases  # noqa: E402
from bench.ingest import free_port  # noqa: E402
from bridge.embedded_redis import find_redis_server  # noqa: E402
from bridge.storage import tables as t  # noqa: E402
from bridge.storage.db import make_engine  # noqa: E402
from tests.support import woo  # noqa: E402

SHOP = "bench"
SIGNUP_POINTS = 25
SHIPPING = Decimal("4.00")
FIRST_ORDER_ID = 1_000_000
FIRST_CUSTOMER_ID = 500_000
PAID_AT = "2026-11-20T10:00:00"
REFUNDED_AT = "2026-11-20T11:00:00"

Delivery = tuple[bytes, dict[str, str]]


# --- the load and what it must leave in the ledger -------------------------------------------------------------


@dataclass
class Workload:
    deliveries: list[Delivery] = field(default_factory=list)  # unique ones, before duplicates and shuffling
    expected: dict[str, int] = field(default_factory=dict)  # customer id -> points
    orders: int = 0
    partial_refunds: int = 0
    full_refunds: int = 0
    signups: int = 0


def _signed(fixture: str, data: dict[str, Any]) -> Delivery:
    body, headers = woo.signed(fixture, data)
    headers["X-WC-Webhook-Delivery-ID"] = secrets.token_hex(16)  # each of the shop's deliveries has its own
    return body, {**headers, "Content-Type": "application/json"}


def _order(fixture: str, order_id: int, customer: str, amount: Decimal, modified: str) -> dict[str, Any]:
    """The captured order rewritten: its id, the shopper, one line of ``amount`` (no tax, no coupon), shipping."""
    data = woo.payload(fixture)
    data.update(
        id=order_id,
        number=str(order_id),
        order_key=f"wc_order_bench{order_id}",
        customer_id=int(customer),
        date_modified=modified,
        date_modified_gmt=modified,
        discount_total="0.00",
        discount_tax="0.00",
        cart_tax="0.00",
        shipping_tax="0.00",
        total_tax="0.00",
        shipping_total=f"{SHIPPING}",
        total=f"{amount + SHIPPING}",
        coupon_lines=[],
        tax_lines=[],
    )
    data["billing"]["email"] = email_of(customer)
    line = data["line_items"][0]
    line.update(quantity=1, subtotal=f"{amount}", total=f"{amount}", subtotal_tax="0.00", total_tax="0.00", taxes=[])
    line["price"] = float(amount)
    data["line_items"] = [line]
    data["shipping_lines"][0].update(total_tax="0.00", taxes=[])
    return data


def email_of(customer: str) -> str:
    return f"shopper{customer}@example.test"


def order_points(amount: Decimal) -> int:
    """The config's rule, computed here on its own: 1 point per currency unit of line totals, rounded down."""
    return int(amount.to_integral_value(rounding=ROUND_FLOOR))


def refund_taken(points: int, refunded: Decimal, total: Decimal) -> int:
    return int((points * min(refunded, total) / total).to_integral_value(rounding=ROUND_FLOOR))


def workload(deliveries: int, shoppers: int, seed: int) -> Workload:
    """``deliveries`` unique deliveries (the duplicates come on top, see ``schedule``) for ``shoppers`` shoppers."""
    rng = random.Random(seed)
    unique = round(deliveries / 1.1)
    w = Workload()
    customers = [str(FIRST_CUSTOMER_ID + s) for s in range(shoppers)]
    for customer in customers:
        w.expected[customer] = 0
    for customer in customers:
        if rng.random() < 0.5:
            data = woo.payload("customer.created")
            data.update(id=int(customer), email=email_of(customer), username=f"shopper{customer}")
            data["billing"]["email"] = email_of(customer)
            w.deliveries.append(_signed("customer.created", data))
            w.expected[customer] += SIGNUP_POINTS
            w.signups += 1
    i = 0
    while len(w.deliveries) < unique:
        customer = customers[i % shoppers] if i < shoppers else rng.choice(customers)  # everyone orders once
        order_id = FIRST_ORDER_ID + i
        i += 1
        amount = Decimal(rng.randint(500, 30_000)) / 100
        points = order_points(amount)
        w.orders += 1
        paid = _order("order.updated.processing-paid", order_id, customer, amount, PAID_AT)
        w.deliveries.append(_signed("order.updated.processing-paid", paid))
        w.expected[customer] += points
        roll = rng.random()
        if roll < 0.15:
            refunded = Decimal(rng.randint(100, int(amount * 100))) / 100
            data = _order("order.updated.partial-refund", order_id, customer, amount, REFUNDED_AT)
            data["refunds"] = [
                {"id": 50_000_000 + i, "reason": "returned", "total": f"-{refunded}", "total_tax": "0.00"}
            ]
            w.deliveries.append(_signed("order.updated.partial-refund", data))
            w.expected[customer] -= refund_taken(points, refunded, amount + SHIPPING)
            w.partial_refunds += 1
        elif roll < 0.25:
            data = _order("order.updated.fully-refunded", order_id, customer, amount, REFUNDED_AT)
            total = amount + SHIPPING
            data["refunds"] = [{"id": 50_000_000 + i, "reason": "returned", "total": f"-{total}", "total_tax": "0.00"}]
            w.deliveries.append(_signed("order.updated.fully-refunded", data))
            w.expected[customer] -= points
            w.full_refunds += 1
    return w


def schedule(w: Workload, total: int, seed: int) -> list[Delivery]:
    """The unique deliveries plus re-sends of random ones (same bytes, same delivery id) up to ``total``, shuffled."""
    rng = random.Random(seed + 1)
    sent = list(w.deliveries)
    sent += [rng.choice(w.deliveries) for _ in range(total - len(sent))]
    rng.shuffle(sent)
    return sent


# --- the processes ---------------------------------------------------------------------------------------------


class RedisServer:
    """A redis-server on a free loopback TCP port, as an external Redis would be."""

    def __init__(self, data: Path) -> None:
        self.port = free_port()
        argv = [find_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        argv += ["no", "--dir", str(data), "--logfile", str(data / "redis.log")]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, "redis-server")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        stop_process(self.process)


def wait_for_port(port: int, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not listen on port {port}")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def bridge(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[bytes]:
    """``bridge <args>`` as its own process (the venv's console script), its output in ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen([str(Path(sys.executable).parent / "bridge"), *args], env=env, stdout=out, stderr=out)


def wait_ready(port: int, timeout: float = 60) -> None:
    """Until ``/readyz`` says ready: the database, Redis and a worker's heartbeat."""
    deadline = time.monotonic() + timeout
    status = "no answer"
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            status = json.loads(conn.getresponse().read()).get("status", "?")
            conn.close()
            if status == "ready":
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"port {port} never became ready (last: {status})")


# --- one run ---------------------------------------------------------------------------------------------------


@dataclass
class Result:
    workers: int
    posted: int
    intake_seconds: float
    end_to_end_seconds: float
    post_p99_ms: float
    inbox: dict[str, int]
    mismatches: list[tuple[str, int, int]]
    members: int
    shoppers: int
    killed_at_done: int | None
    retried: int
    errors: list[str]


def post_all(ports: list[int], bodies: list[Delivery], clients: int, on_progress: Any) -> tuple[float, list[float]]:
    """Post every delivery (client i talks to ``ports[i % 2]``); returns the first POST's wall time and latencies."""
    latencies: list[float] = []
    lock = threading.Lock()
    posted = [0]
    first = [0.0]
    started = threading.Event()
    errors: list[str] = []

    def client(n: int, chunk: list[Delivery]) -> None:
        port = ports[n % len(ports)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for body, headers in chunk:
            if not started.is_set():
                with lock:
                    if not started.is_set():
                        first[0] = time.time()
                        started.set()
            begun = time.perf_counter()
            conn.request("POST", f"/webhooks/woocommerce/{SHOP}", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - begun)
            if response.status != 200:
                errors.append(f"port {port} answered {response.status}")
                return
            with lock:
                posted[0] += 1
                count = posted[0]
            on_progress(count)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n, bodies[n::clients])) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"{len(errors)} deliveries refused, first: {errors[0]}")
    return first[0], latencies


def run(database_url: str, data: Path, w: Workload, sent: list[Delivery], workers: int, args: Any) -> Result:
    redis = RedisServer(data)
    procs: list[subprocess.Popen[bytes]] = []
    worker_procs: list[subprocess.Popen[bytes]] = []
    engine = make_engine(database_url)
    log = (args.logs or data) / f"processes-{workers}-workers.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        admin_key = secrets.token_urlsafe(24)
        config = data / "config.yaml"
        settings = {
            "data_dir": str(data),
            "database_url": database_url,
            "redis_url": redis.url,
            "log_level": "WARNING",
            "admin": {"api_keys": [admin_key]},
            "shops": [
                {"id": SHOP, "url": "http://127.0.0.1:8080", "webhook_secret": woo.SECRET, "currency": "USD"},
            ],
            "program": {
                "earn": {"points_per_currency_unit": 1, "signup_points": SIGNUP_POINTS, "release": "on_payment"}
            },
        }
        config.write_text(yaml.safe_dump(settings))
        env = {**os.environ, "BRIDGE_CONFIG": str(config)}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        subprocess.run([str(Path(sys.executable).parent / "bridge"), "db", "upgrade"], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        ports = [free_port() for _ in range(args.web)]
        for port in ports:
            serve = ["serve", "--port", str(port), "--workers", str(args.web_workers), "--threads", "4"]
            procs.append(bridge(env, *serve, log=log))
        for _ in range(workers):
            worker_procs.append(bridge(env, "worker", log=log))
        for port in ports:
            wait_for_port(port, "bridge serve")
            wait_ready(port)

        killed_at_done: list[int] = []
        kill_after = len(sent) // 2 if workers > 1 and not args.no_kill else None

        def on_progress(count: int) -> None:
            if kill_after is not None and count == kill_after:
                victim = worker_procs[0]
                os.kill(victim.pid, signal.SIGKILL)  # mid-drain: no clean shutdown, its transaction is lost
                victim.wait()
                killed_at_done.append(inbox_counts(engine).get("done", 0))
                worker_procs[0] = bridge(env, "worker", log=log)  # the process manager starts a new one

        first_post, latencies = post_all(ports, sent, args.clients, on_progress)
        intake = time.time() - first_post
        deadline = time.monotonic() + args.timeout
        while (counts := inbox_counts(engine)).get("pending", 0) and time.monotonic() < deadline:
            time.sleep(0.2)
        with engine.connect() as conn:
            last = conn.scalar(select(func.max(t.inbox_delivery.c.processed_at)))
        end_to_end = (last.timestamp() if last else time.time()) - first_post
        mismatches, members = compare(engine, w.expected)
        d = t.inbox_delivery.c
        with engine.connect() as conn:
            retried = int(conn.scalar(select(func.count()).where(d.attempts > 1)) or 0)
        lines = log.read_text(errors="replace").splitlines()
        errors = [line for line in lines if " failed: " in line or "ERROR" in line]
    finally:
        for proc in procs + worker_procs:
            stop_process(proc)
        redis.stop()
        engine.dispose()
    return Result(
        workers=workers,
        posted=len(sent),
        intake_seconds=intake,
        end_to_end_seconds=end_to_end,
        post_p99_ms=statistics.quantiles(latencies, n=100)[98] * 1000,
        inbox=counts,
        mismatches=mismatches,
        members=members,
        shoppers=len(w.expected),
        killed_at_done=killed_at_done[0] if killed_at_done else None,
        retried=retried,
        errors=errors,
    )


def inbox_counts(engine: Any) -> dict[str, int]:
    d = t.inbox_delivery.c
    with engine.connect() as conn:
        return {str(s): int(n) for s, n in conn.execute(select(d.state, func.count()).group_by(d.state))}


def compare(engine: Any, expected: dict[str, int]) -> tuple[list[tuple[str, int, int]], int]:
    """(customer id, expected, in the ledger) for every shopper whose balance differs; and how many members exist."""
    mi, le = t.member_identity.c, t.ledger_entry.c
    stmt = (
        select(mi.platform_customer_id, func.coalesce(func.sum(le.points), 0))
        .select_from(t.member_identity.outerjoin(t.ledger_entry, le.member_id == mi.member_id))
        .where(mi.shop_id == SHOP)
        .group_by(mi.platform_customer_id)
    )
    with engine.connect() as conn:
        actual = {str(c): int(p) for c, p in conn.execute(stmt)}
        members = int(conn.scalar(select(func.count()).select_from(t.member)) or 0)
    unknown = {c: p for c, p in actual.items() if c not in expected}
    wrong = [(c, expected[c], actual.get(c, 0)) for c in sorted(expected) if actual.get(c, 0) != expected[c]]
    return wrong + [(c, 0, p) for c, p in unknown.items()], members


def report(r: Result, w: Workload) -> bool:
    out = sys.stdout.write
    ok = not r.mismatches and r.members == r.shoppers and not r.inbox.get("pending") and not r.inbox.get("failed")
    out(f"{r.workers} worker(s): {r.posted:,} deliveries posted in {r.intake_seconds:.1f} s "
        f"(intake {r.posted / r.intake_seconds:,.0f}/s, POST p99 {r.post_p99_ms:.1f} ms)\n")  # fmt: skip
    out(f"  end to end (first POST -> last applied): {r.end_to_end_seconds:.1f} s = "
        f"{r.posted / r.end_to_end_seconds:,.0f} deliveries/s\n")  # fmt: skip
    if r.killed_at_done is not None:
        out(f"  one worker SIGKILLed half-way ({r.killed_at_done:,} deliveries applied then) and a new one started\n")
    out(f"  inbox {r.inbox}; {r.members:,} members for {r.shoppers:,} shoppers; ")
    total = sum(w.expected.values())
    out(f"ledger {'EQUALS' if not r.mismatches else 'DIFFERS FROM'} the expected ({total:,} points in all)\n")
    deadlocks = sum("deadlock detected" in line for line in r.errors)
    out(f"  deliveries applied only at a later attempt: {r.retried:,}; failed attempts and errors logged: ")
    out(f"{len(r.errors)} ({deadlocks} PostgreSQL deadlocks between drains)\n")
    for line in r.errors[:5]:
        out(f"    {line[:300]}\n")
    for customer, want, got in r.mismatches[:10]:
        out(f"    customer {customer}: expected {want}, ledger {got}\n")
    if len(r.mismatches) > 10:
        out(f"    ... {len(r.mismatches) - 10} more\n")
    return ok


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=50_000)
    parser.add_argument("--shoppers", type=int, default=20_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3], help="a run per count")
    parser.add_argument("--web", type=int, default=2, help="bridge serve processes")
    parser.add_argument("--web-workers", type=int, default=1, help="gunicorn workers of each bridge serve")
    parser.add_argument("--clients", type=int, default=8, help="posting threads")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-kill", action="store_true", help="kill no worker (to compare)")
    parser.add_argument("--logs", type=Path, help="keep the processes' logs here (default: deleted with the run)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the inbox to drain")
    args = parser.parse_args()
    w = workload(args.deliveries, args.shoppers, args.seed)
    sent = schedule(w, args.deliveries, args.seed)
    sys.stdout.write(
        f"{len(sent):,} deliveries ({len(w.deliveries):,} unique + {len(sent) - len(w.deliveries):,} re-sent), "
        f"{len(w.expected):,} shoppers: {w.orders:,} orders, {w.partial_refunds:,} partial and {w.full_refunds:,} "
        f"full refunds, {w.signups:,} sign-ups; {args.web} x bridge serve ({args.web_workers} gunicorn worker(s) "
        f"x 4 threads each), {args.clients} clients; load average {loadavg()}\n"
    )
    rates: dict[int, float] = {}
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-scaleout-") as tmp:
        for workers in args.workers:
            data = Path(tmp) / f"w{workers}"
            data.mkdir()
            with closing(databases("postgresql", data)) as clusters:  # stopped even when the run fails
                for _, url in clusters:
                    result = run(url, data, w, sent, workers, args)
                    ok = report(result, w) and ok
                    rates[workers] = result.posted / result.end_to_end_seconds
                    sys.stdout.write(f"  load average {loadavg()}\n")
    if len(rates) > 1:
        base = min(rates)
        growth = ", ".join(f"{n} workers {rates[n] / rates[base]:.2f}x" for n in sorted(rates) if n != base)
        sys.stdout.write(f"end to end, against {base} worker(s): {growth}\n")
    sys.stdout.write("every ledger equals the expected one\n" if ok else "A LEDGER DIFFERS (see above)\n")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
