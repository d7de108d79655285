"""Memory of a running `bridge run`: PSS summed over the whole process tree, idle and under an ingest load.

PSS (proportional set size, ``/proc/<pid>/smaps_rollup``) counts a page shared by N processes as 1/N in each, so
the sum over the tree is what the tree really costs the machine (RSS would count shared pages N times).

    .venv/bin/python -m bench.memory [--seconds 20] [--deliveries 2000]

Starts `bridge run` on a throwaway copy of the demo config (SQLite, the embedded Redis, 1 web worker, a worker),
waits until /readyz is ready and the tree has settled, reports PSS per process and the sum; then sends signed
order deliveries for ``--seconds`` and reports the peak sum seen while they are applied.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
TARGET_IDLE_MB = 150
TARGET_LOAD_MB = 200


def pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def tree(root: int) -> list[int]:
    """``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def name(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return "?"
    for label in ("redis-server", "gunicorn", "bridge worker", "bridge.supervise", " run"):
        if label in cmd:
            return {" run": "supervisor", "bridge.supervise": "supervisor"}.get(label, label)
    return cmd[:60]


def tree_pss(root: int) -> tuple[int, list[tuple[int, str, int]]]:
    rows = [(pid, name(pid), pss_kib(pid)) for pid in tree(root)]
    return sum(r[2] for r in rows), rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ready(port: int) -> bool:
    try:
        with OPENER.open(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return bool(json.loads(response.read()).get("status") == "ready")
    except (OSError, ValueError):
        return False


def load(port: int, stop: threading.Event, secret: str) -> int:
    """Signed order deliveries back to back (one new order each) until ``stop``; returns how many were sent."""
    sys.path.insert(0, str(ROOT))
    from tests.support import woo

    sent, order_id = 0, 900_000
    while not stop.is_set():
        data = woo.payload("order.updated.completed")
        data["id"] = order_id
        body, headers = woo.signed("order.updated.completed", data, secret)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/webhooks/woocommerce/demo", body, headers)
        try:
            with OPENER.open(request, timeout=10):
                sent += 1
        except (urllib.error.URLError, OSError):
            pass
        order_id += 1
    return sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the ingest load runs")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds idle before the idle reading")
    parser.add_argument("--bridge", default=str(ROOT / ".venv" / "bin" / "bridge"), help="the bridge command to run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        config = yaml.safe_load((ROOT / "config.example.yaml").read_text())
        config["data_dir"] = str(Path(tmp) / "data")
        path = Path(tmp) / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        shop = next(s for s in config["shops"] if s["id"] == "demo")
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
        process = subprocess.Popen(
            [args.bridge, "--config", str(path), "run", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while not ready(port):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("bridge run did not become ready")
                time.sleep(0.2)
            time.sleep(args.settle)
            idle, rows = tree_pss(process.pid)
            for pid, label, kib in sorted(rows, key=lambda r: -r[2]):
                sys.stdout.write(f"  {label:<14} pid {pid:<7} {kib / 1024:7.1f} MB PSS\n")
            verdict = "ok" if idle / 1024 < TARGET_IDLE_MB else "over"
            sys.stdout.write(f"idle tree: {idle / 1024:.1f} MB PSS (target < {TARGET_IDLE_MB}: {verdict})\n")

            stop = threading.Event()
            result: list[int] = []
            sender = threading.Thread(target=lambda: result.append(load(port, stop, shop["webhook_secret"])))
            sender.start()
            peak = 0
            ends = time.monotonic() + args.seconds
            while time.monotonic() < ends:
                peak = max(peak, tree_pss(process.pid)[0])
                time.sleep(0.5)
            stop.set()
            sender.join()
            verdict = "ok" if peak / 1024 < TARGET_LOAD_MB else "over"
            sys.stdout.write(
                f"under ingest ({result[0] if result else 0} deliveries in {args.seconds:.0f} s): "
                f"peak {peak / 1024:.1f} MB PSS (target < {TARGET_LOAD_MB}: {verdict})\n"
            )
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
