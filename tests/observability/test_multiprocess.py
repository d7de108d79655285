"""Metrics across processes (prometheus_client's multiprocess mode): what separate processes counted adds up in one
scrape, under ``bridge run`` too, where deliveries are received by gunicorn's workers and applied by the worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.config import Settings
from tests.integration.test_supervisor import OPENER, RunningBridge, points_by_order, run_bridge, wait_until
from tests.observability.scrape import parse, scrape, value
from tests.support import woo
from tests.support.client import SHOP, Bridge

__all__ = ["run_bridge"]  # a fixture, used below

COUNTING = """
import sys
from pathlib import Path
import bridge.cli  # the command line imports every metric first, as `bridge worker` does
from bridge.observability import metrics, multiproc
multiproc.use(Path(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    metrics.delivery_received("mp-shop", "order.created")
"""


def _count_in_a_process(data_dir: Path, times: int) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    subprocess.run([sys.executable, "-c", COUNTING, str(data_dir), str(times)], env=env, check=True, timeout=60)


def test_two_processes_counts_add_up_in_one_scrape(
    bridge: Bridge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "shared"
    _count_in_a_process(data_dir, 3)
    _count_in_a_process(data_dir, 4)
    assert len(list((data_dir / "metrics").glob("counter_*.db"))) == 2  # one file per process

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(data_dir / "metrics"))
    samples = scrape(bridge)  # the web process reads every process's file; both have exited: they still count
    assert value(samples, "bridge_deliveries_received_total", shop="mp-shop", topic="order.created") == 7
    assert "bridge_inbox_pending" in {name for name, _ in samples}  # and the inbox, read at the scrape


def _metrics(bridge: RunningBridge) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with OPENER.open(f"http://127.0.0.1:{bridge.port}/metrics", timeout=30) as response:
        return parse(response.read().decode())


def _deliver(bridge: RunningBridge, order_id: int) -> None:
    import urllib.request

    body, headers = woo.with_order_id("order.updated.completed", order_id)
    request = urllib.request.Request(f"http://127.0.0.1:{bridge.port}/webhooks/woocommerce/{SHOP}", data=body)
    for name, header in headers.items():
        request.add_header(name, header)
    with OPENER.open(request, timeout=30) as response:
        assert response.status == 200


@pytest.mark.slow
def test_bridge_run_adds_up_its_web_workers_and_its_worker_across_restarts(
    run_bridge: Callable[..., RunningBridge], make_settings: Callable[..., Settings]
) -> None:
    # given counts left in data_dir/metrics by an earlier run
    stale = make_settings(redis_url="embedded").data_dir
    _count_in_a_process(stale, 100)
    bridge = run_bridge()  # which empties it when it starts

    orders = range(70_000, 70_006)
    for order_id in orders:
        _deliver(bridge, order_id)
    wait_until(lambda: len(points_by_order(bridge.rt)) == len(orders), 60, "every delivery applied")

    labels = {"shop": SHOP, "topic": "order.updated"}
    wait_until(lambda: value(_metrics(bridge), "bridge_deliveries_applied_total", **labels) == 6, 10, "applied")
    samples = _metrics(bridge)
    assert value(samples, "bridge_deliveries_received_total", **labels) == 6  # counted by gunicorn's workers
    assert value(samples, "bridge_deliveries_received_total", shop="mp-shop", topic="order.created") == 0
    assert value(samples, "bridge_ledger_entries_total", kind="earn") == 6  # counted by the worker process
    assert value(samples, "bridge_job_runs_total", job="bridge.jobs.drain.drain_inbox", outcome="ok") >= 1

    # when the web server is killed and started again, what its workers counted still counts
    web = bridge.children()["web"]
    os.kill(web, signal.SIGKILL)
    wait_until(lambda: bridge.children().get("web", web) != web, 30, "a new web server")
    wait_until(lambda: bridge.readyz().get("status") == "ready", 30, "/readyz ready again")
    _deliver(bridge, 70_100)
    assert value(_metrics(bridge), "bridge_deliveries_received_total", **labels) == 7
