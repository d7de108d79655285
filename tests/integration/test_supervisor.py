"""`bridge run` as an owner runs it: a child killed under a stream of deliveries is restarted and nothing is refused
or lost; a second `bridge run` on the same folder or a busy port stops at once with one clear line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import func, select

from bridge.config import Settings
from bridge.runtime import Runtime
from bridge.storage import db
from bridge.storage import tables as t
from tests.support import woo
from tests.support.processes import alive

pytestmark = pytest.mark.slow

BRIDGE = [sys.executable, "-m", "bridge"]
WOOCOMMERCE_TIMEOUT_SECONDS = 60  # a delivery not answered by then counts as failed (never retried)
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never through a proxy


def _env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}, **extra}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.05)


def children_of(pid: int) -> dict[str, int]:
    """The supervisor's direct children by role: redis-server, worker, web (the gunicorn master)."""
    found: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        after = stat.rsplit(")", 1)[1].split()
        if int(after[1]) != pid or after[0] == "Z":
            continue
        if "redis-server" in cmdline:
            found["redis-server"] = int(entry.name)
        elif "gunicorn" in cmdline:
            found["web"] = int(entry.name)
        elif "bridge worker" in cmdline:
            found["worker"] = int(entry.name)
    return found


@dataclass
class RunningBridge:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    settings: Settings
    rt: Runtime

    def readyz(self) -> dict[str, Any]:
        try:
            with OPENER.open(f"http://127.0.0.1:{self.port}/readyz", timeout=5) as response:
                body: dict[str, Any] = json.loads(response.read())
                return body
        except (OSError, ValueError):
            return {}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def children(self) -> dict[str, int]:
        return children_of(self.process.pid)


def start_bridge(
    tmp_path: Path, config: Path, settings: Settings, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
) -> RunningBridge:
    port = _free_port()
    log_path = tmp_path / f"run-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*BRIDGE, "--config", str(config), "run", "--port", str(port), *args],
            env=env or _env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return RunningBridge(process, port, log_path, settings, Runtime.build(settings))


@pytest.fixture
def run_bridge(make_settings: Callable[..., Settings], tmp_path: Path) -> Iterator[Callable[..., RunningBridge]]:
    """`bridge run` on the test config with the embedded Redis, ready (database, Redis and a worker up)."""
    started: list[RunningBridge] = []

    def start(env: dict[str, str] | None = None, wait_ready: bool = True, args: tuple[str, ...] = ()) -> RunningBridge:
        settings = make_settings(redis_url="embedded")
        bridge = start_bridge(tmp_path, tmp_path / "config.yaml", settings, env, args)
        started.append(bridge)
        if wait_ready:
            wait_until(lambda: bridge.readyz().get("status") == "ready", 60, "/readyz ready")
        return bridge

    yield start
    for bridge in started:
        children = set(bridge.children().values())
        if bridge.process.poll() is None:
            bridge.process.terminate()
            try:
                bridge.process.wait(30)
            except subprocess.TimeoutExpired:
                bridge.process.kill()
                bridge.process.wait()
        for pid in children:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        bridge.rt.close()


class DeliveryStream(threading.Thread):
    """A shop sending signed order deliveries back to back, one new order each; records every answer."""

    def __init__(self, port: int, first_order: int = 50_000) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.first_order = first_order
        self.answers: dict[int, str] = {}
        self.slowest = 0.0  # seconds, the longest a delivery waited for its answer
        self.stopping = threading.Event()

    def run(self) -> None:
        order_id = self.first_order
        while not self.stopping.is_set():
            body, headers = woo.with_order_id("order.updated.completed", order_id)
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.port}/webhooks/woocommerce/shop1", data=body, headers=headers
            )
            started = time.monotonic()
            try:
                with OPENER.open(request, timeout=50) as response:
                    self.answers[order_id] = str(response.status)
            except urllib.error.HTTPError as exc:
                self.answers[order_id] = str(exc.code)
            except OSError as exc:
                self.answers[order_id] = f"{type(exc).__name__}: {exc}"
            self.slowest = max(self.slowest, time.monotonic() - started)
            order_id += 1
            time.sleep(0.02)

    def sent_since(self, count: int) -> Callable[[], bool]:
        start = len(self.answers)
        return lambda: len(self.answers) >= start + count

    def stop(self) -> None:
        self.stopping.set()
        self.join(30)


def points_by_order(rt: Runtime) -> dict[int, int]:
    e = t.ledger_entry.c
    with db.read(rt.engine) as conn:
        rows = conn.execute(select(e.cause_id, func.sum(e.points)).where(e.cause_type == "order").group_by(e.cause_id))
        return {int(order_id): int(points) for order_id, points in rows}


def inbox_count(rt: Runtime, state: str) -> int:
    with db.read(rt.engine) as conn:
        count = conn.execute(select(func.count()).where(t.inbox_delivery.c.state == state)).scalar_one()
        return int(count)


@pytest.mark.parametrize("child", ["worker", "redis-server", "web"])
def test_a_killed_child_is_restarted_and_no_delivery_is_refused_or_lost(
    run_bridge: Callable[..., RunningBridge], child: str
) -> None:
    # given a running bridge taking a steady stream of deliveries
    bridge = run_bridge()
    stream = DeliveryStream(bridge.port)
    stream.start()
    try:
        wait_until(stream.sent_since(10), what="10 deliveries answered")

        # when the child is killed with no chance to clean up
        victim = bridge.children()[child]
        os.kill(victim, signal.SIGKILL)

        # then the supervisor starts a new one, and intake goes on meanwhile
        wait_until(lambda: bridge.children().get(child, victim) != victim, 30, f"a new {child}")
        wait_until(lambda: bridge.readyz().get("status") == "ready", 30, "/readyz ready again")
        wait_until(stream.sent_since(20), what="20 more deliveries answered")
    finally:
        stream.stop()

    # every delivery was acknowledged: none refused while the child was down
    refused = {order: answer for order, answer in stream.answers.items() if answer != "200"}
    assert not refused, refused
    assert stream.slowest < WOOCOMMERCE_TIMEOUT_SECONDS / 2  # (while gunicorn restarts, they wait in the backlog)
    # and every one is applied exactly once once the child is back
    expected = {order: 35 for order in stream.answers}
    wait_until(lambda: points_by_order(bridge.rt) == expected, 60, "every delivery applied")
    assert inbox_count(bridge.rt, "failed") == 0 and inbox_count(bridge.rt, "pending") == 0
    assert bridge.process.poll() is None, "the bridge stopped"
    assert f"{child} (pid {victim}) died" in bridge.log() and "(killed by SIGKILL): restarting it" in bridge.log()


def test_a_child_that_keeps_dying_at_start_makes_the_bridge_give_up_and_say_why(
    run_bridge: Callable[..., RunningBridge], tmp_path: Path
) -> None:
    # given a redis-server that starts once, then can no longer start (as when its disk is full)
    from bridge.embedded_redis import find_redis_server

    marker = tmp_path / "started-once"
    wrapper = tmp_path / "redis-server-once"
    wrapper.write_text(
        f'#!/bin/sh\nif [ -e "{marker}" ]; then echo "no space left" >&2; exit 1; fi\n'
        f'touch "{marker}"\nexec "{find_redis_server()}" "$@"\n'
    )
    wrapper.chmod(0o755)
    bridge = run_bridge(env=_env(REDIS_SERVER_BIN=str(wrapper)))
    children = bridge.children()

    # when it dies
    os.kill(children["redis-server"], signal.SIGKILL)

    # then the bridge retries with backoff, gives up, names the child and the reason, and stops everything
    assert bridge.process.wait(60) == 1
    log = bridge.log()
    assert "redis-server could not be started" in log
    assert "redis-server died 5 times in a row" in log and "giving up" in log
    wait_until(lambda: not any(alive(pid) for pid in children.values()), 20, "every child stopped")


def test_a_second_bridge_on_the_same_data_dir_stops_and_leaves_the_first_intact(
    run_bridge: Callable[..., RunningBridge], tmp_path: Path
) -> None:
    first = run_bridge()

    second = subprocess.run(
        [*BRIDGE, "--config", str(tmp_path / "config.yaml"), "run", "--port", str(_free_port())],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert second.returncode == 1
    assert f"another bridge (pid {first.process.pid}) is running on" in second.stderr
    assert "listening" not in second.stderr
    # the first bridge's Redis socket is still there and takes new connections, and the first bridge is ready
    with Redis(unix_socket_path=str(first.settings.embedded_redis_socket)) as fresh:
        assert fresh.ping()
    assert first.readyz()["status"] == "ready"
    status = subprocess.run(
        [*BRIDGE, "--config", str(tmp_path / "config.yaml"), "status", "--offline", "--check"],
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"bridge run: pid {first.process.pid}" in status.stdout


@pytest.mark.parametrize("command", ["run", "serve"])
def test_a_busy_port_is_one_clear_line(config_file: Path, command: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(
            [*BRIDGE, "--config", str(config_file), command, "--port", str(port)],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.strip() == f"port {port} is in use: use --port"
    assert time.monotonic() - started < 15  # no gunicorn retries


def test_a_killed_worker_shows_as_down_at_once(run_bridge: Callable[..., RunningBridge]) -> None:
    bridge = run_bridge()

    os.kill(bridge.children()["worker"], signal.SIGKILL)

    # /readyz says so (with since when) before the worker's beat goes stale, while the web keeps taking deliveries
    seen: list[dict[str, Any]] = []
    wait_until(lambda: seen.append(bridge.readyz()) or seen[-1].get("checks", {}).get("worker") == "down", 5, "down")
    assert seen[-1]["status"] == "degraded" and "since" in seen[-1]["detail"]["worker"]
    wait_until(lambda: bridge.readyz().get("checks", {}).get("worker") == "ok", 30, "worker back")


def test_a_worker_outlives_a_redis_restart_in_the_middle_of_a_drain(
    make_bridge: Callable[..., Any], tmp_path: Path
) -> None:
    # given a backlog, drained by a real `bridge worker` (as in production, with no supervisor to restart it)
    from bridge.embedded_redis import EmbeddedRedis

    redis = EmbeddedRedis(tmp_path / "r.sock").start()
    log_path = tmp_path / "worker.log"
    worker = None
    try:
        bridge = make_bridge(redis_url=redis.url, inbox={"batch_size": 10})
        orders = range(60_000, 60_300)
        for order_id in orders:
            bridge.send_ok(*woo.with_order_id("order.updated.completed", order_id))
        with log_path.open("wb") as log:
            worker = subprocess.Popen(
                [*BRIDGE, "--config", str(tmp_path / "config.yaml"), "worker"],
                env=_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(lambda: inbox_count(bridge.rt, "done") >= 30, 60, "the drain under way")

        # when Redis dies under the running job, which ends (and fails to record its end) while Redis is away
        redis.stop()
        wait_until(lambda: inbox_count(bridge.rt, "done") == len(orders), 60, "the backlog applied")
        time.sleep(1.0)
        redis.start()

        # then the same worker process goes on taking jobs: a new delivery is applied
        assert points_by_order(bridge.rt) == {order_id: 35 for order_id in orders}
        wait_until(lambda: bridge.rt.drains.ensure_drain("shop1"), 10, "the web's trigger reaching Redis again")
        bridge.send_ok(*woo.with_order_id("order.updated.completed", 70_000))
        wait_until(lambda: points_by_order(bridge.rt).get(70_000) == 35, 30, "the new delivery applied")
        assert worker.poll() is None, log_path.read_text()
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        redis.stop()
