"""Ingest benchmark: signed webhook deliveries answered per second by the bridge vs a bare Flask endpoint.

    .venv/bin/python bench/ingest.py [--requests 4000] [--concurrency 8] [--rounds 3] [--with-normal-sync]

Both run in gunicorn as ``bridge serve`` runs it (2 workers, gthread, 4 threads), on loopback; the bridge on
SQLite (WAL) with a real redis-server (the embedded one). Load: ``--concurrency`` client threads with
keep-alive connections posting real order payloads (each a new order id, re-signed), in ``--rounds`` rounds
alternating bare and bridge (the median round of each is reported). Targets: bridge >= 50% of the bare endpoint's
requests/s, p99 < 25 ms. Also prints each server's CPU time per request (its gunicorn workers' user + system
time, from /proc: steadier than req/s on a shared machine). Prints figures and exits 0. (The client shares the
2 cores.)
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bridge.embedded_redis import EmbeddedRedis  # noqa: E402
from tests.support import woo  # noqa: E402

SHOP = "bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def gunicorn(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    argv += ["--worker-class", "gthread", "--threads", "4", "--no-control-socket", "--log-level", "warning", app]
    proc = subprocess.Popen(argv, env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{app} did not start")


def load(
    port: int, path: str, bodies: list[tuple[bytes, dict[str, str]]], concurrency: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    chunks = [bodies[i::concurrency] for i in range(concurrency)]

    def client(chunk: list[tuple[bytes, dict[str, str]]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        for body, headers in chunk:
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(bodies) / (time.perf_counter() - started), latencies


def workers_cpu_seconds(arbiter: int) -> float:
    """CPU time (user + system) used so far by the gunicorn workers of ``arbiter`` (Linux /proc; 0 elsewhere).

    Less noisy than req/s on a shared machine: what one request costs the server, whatever else runs.
    """
    try:
        children = Path(f"/proc/{arbiter}/task/{arbiter}/children").read_text().split()
        total = 0
        for pid in children:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def report(name: str, rate: float, latencies: list[float], cpu_ms: float) -> None:
    q = statistics.quantiles(latencies, n=100)
    sys.stdout.write(
        f"{name:>6}: {rate:8,.0f} req/s   p50 {q[49] * 1000:5.1f} ms   p90 {q[89] * 1000:5.1f} ms   "
        f"p99 {q[98] * 1000:5.1f} ms   server CPU {cpu_ms:.2f} ms/req (median round)\n"
    )


def deliveries(count: int) -> list[tuple[bytes, dict[str, str]]]:
    base = woo.payload("order.updated.processing-paid")
    out = []
    for i in range(count):
        base["id"] = 500_000 + i
        body, headers = woo.signed("order.updated.processing-paid", base)
        out.append((body, {**headers, "Content-Type": "application/json"}))
    return out


def _median_round(runs: list[tuple[float, list[float]]]) -> tuple[float, list[float]]:
    """The round with the median rate (its own latencies)."""
    return sorted(runs, key=lambda run: run[0])[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="alternating bare/bridge rounds (median reported)")
    parser.add_argument(
        "--with-normal-sync",
        action="store_true",
        help="also serve the bridge with SQLite synchronous=NORMAL (no fsync at commit) in the same rounds",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        data = Path(tmp)
        redis = EmbeddedRedis(data / "redis.sock").start()
        config = data / "config.yaml"
        shop = {"id": SHOP, "url": "http://127.0.0.1:8080", "webhook_secret": woo.SECRET, "currency": "USD"}
        config.write_text(
            yaml.safe_dump(
                {"data_dir": str(data), "redis_url": f"unix://{data / 'redis.sock'}", "shops": [shop]},
            )
        )
        env = {**os.environ, "BRIDGE_CONFIG": str(config), "BRIDGE_LOG_LEVEL": "WARNING"}
        subprocess.run(
            [sys.executable, "-m", "bridge", "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL
        )
        bodies = deliveries(args.requests)
        servers = {"bare": ("bench.bare_app:app", "/bare"), "bridge": ("bridge:create_app()", "")}
        if args.with_normal_sync:
            servers["normal"] = ("bench.normal_sync_app:app", "")
        procs = {}
        rounds: dict[str, list[tuple[float, list[float]]]] = {name: [] for name in servers}
        cpu_ms: dict[str, list[float]] = {name: [] for name in servers}
        try:
            for name, (app, path) in servers.items():
                port = free_port()
                procs[name] = (gunicorn(app, port, env), port, path or f"/webhooks/woocommerce/{SHOP}")
                load(port, procs[name][2], bodies[:200], args.concurrency)  # warm-up
            # Alternate the two in rounds: the shared machine's load drifts, and both should see the same drift.
            for _ in range(args.rounds):
                for name in servers:
                    proc, port, target = procs[name]
                    cpu_before = workers_cpu_seconds(proc.pid)
                    rounds[name].append(load(port, target, bodies[200:], args.concurrency))
                    cpu_ms[name].append((workers_cpu_seconds(proc.pid) - cpu_before) * 1000 / len(bodies[200:]))
        finally:
            for proc, _, _ in procs.values():
                proc.terminate()
                proc.wait(10)
        redis.stop()
        results = {name: _median_round(runs) for name, runs in rounds.items()}
    for name, (rate, latencies) in results.items():
        report(name, rate, latencies, statistics.median(cpu_ms[name]))
    if "normal" in results:
        sys.stdout.write(f"normal/bare: {results['normal'][0] / results['bare'][0]:.0%} (synchronous=NORMAL)\n")
    ratio = results["bridge"][0] / results["bare"][0]
    p99 = statistics.quantiles(results["bridge"][1], n=100)[98] * 1000
    sys.stdout.write(f"bridge/bare: {ratio:.0%} (target >= 50%: {'met' if ratio >= 0.5 else 'NOT met'}); ")
    sys.stdout.write(f"bridge p99 {p99:.1f} ms (target < 25 ms: {'met' if p99 < 25 else 'NOT met'})\n")


if __name__ == "__main__":
    main()
