"""`bridge connect` while the bridge runs: real gunicorn workers and a real worker process follow it, no restart.

The test process plays `bridge connect` (the same service function, against the shop's REST API faked with
`responses`, which subprocesses cannot use); the bridge's processes only see the stored connection change.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bridge.connectors.woocommerce.webhooks import signature_for
from tests.support import woo
from tests.support.client import ADMIN_KEY, WIDGET_SECRET, Bridge
from tests.support.woo_rest import SHOP_URL, FakeWooShop
from tests.sync.conftest import CONNECTED, Synced

pytestmark = pytest.mark.slow

README_ENTRY = {"id": CONNECTED, "widget_secret": WIDGET_SECRET}
PICKED_UP_WITHIN_SECONDS = 5.0
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never through a proxy


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `bridge <args>` on the test config; every process is stopped at the end."""
    started: list[subprocess.Popen[bytes]] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}

    def start(*args: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{args[0]}-{len(started)}.log").open("wb")
        cmd = [sys.executable, "-m", "bridge", "--config", str(tmp_path / "config.yaml"), *args]
        started.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env))
        log.close()
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
    for process in started:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _call(port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body or None, headers=headers or {}, method=method
    )
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if _call(port, "GET", "/readyz")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("bridge serve never answered /readyz")


def _delivery(order_id: int, secret: str) -> tuple[bytes, dict[str, str]]:
    body, headers = woo.with_order_id("order.updated.completed", order_id)
    return body, {**headers, "X-WC-Webhook-Signature": signature_for(body, secret)}


def _shop_url_seen(port: int) -> str:
    status, body = _call(port, "GET", "/admin/v1/shops", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert status == 200, body
    return next(str(s["url"]) for s in body["shops"] if s["id"] == CONNECTED)


def test_connect_reaches_every_gunicorn_worker_and_the_worker_without_a_restart(
    make_bridge: Callable[..., Bridge],
    woo_shop: FakeWooShop,
    processes: Callable[..., subprocess.Popen[bytes]],
) -> None:
    # given the README's shop entry, `bridge serve` with 2 gunicorn workers and a separate `bridge worker`
    owner = Synced(make_bridge(shops=[README_ENTRY]), woo_shop)
    port = _free_port()
    web = processes("serve", "--port", str(port), "--workers", "2", "--threads", "2")
    processes("worker")
    _wait_ready(port, web)
    assert _call(port, "POST", f"/webhooks/woocommerce/{CONNECTED}", *_delivery(1, "not-connected-yet"))[0] == 401

    # when the shop is connected (by another process)
    owner.connect()
    connected_at = time.monotonic()
    secret = next(iter(woo_shop.webhook_secrets.values()))

    # then signed deliveries, many at once so that both gunicorn workers answer some, are all accepted...
    orders = range(41_000, 41_024)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda o: _call(port, "POST", f"/webhooks/woocommerce/{CONNECTED}",
                                                *_delivery(o, secret)), orders))  # fmt: skip
    assert [status for status, _ in answers] == [200] * len(orders), answers
    # ... every web process serves the connected shop's settings within the promised time ...
    while _shop_url_seen(port) != SHOP_URL:
        assert time.monotonic() - connected_at < PICKED_UP_WITHIN_SECONDS, "a web worker still has the old entry"
        time.sleep(0.1)
    assert all(_shop_url_seen(port) == SHOP_URL for _ in range(12))
    # ... and the worker process applies them all
    deadline = time.monotonic() + 60
    while owner.bridge.inbox_count("done") < len(orders) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert owner.bridge.inbox_count("done") == len(orders)
    assert owner.balance_of(woo.CAROL) == 35 * len(orders)
