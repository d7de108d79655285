"""Nothing lost, nothing doubled: a Redis outage, a killed worker, a delivery that keeps failing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bridge.embedded_redis import EmbeddedRedis
from bridge.storage import db
from bridge.storage import tables as t
from tests.support import woo
from tests.support.client import Bridge

pytestmark = pytest.mark.slow


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Start real `bridge worker` processes on the test config; all are killed at the end."""
    started: list[subprocess.Popen[bytes]] = []
    logs = []

    def start() -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "bridge", "--config", str(tmp_path / "config.yaml"), "worker"]
        logs.append((tmp_path / f"worker-{len(started)}.log").open("wb"))
        process = subprocess.Popen(cmd, stdout=logs[-1], stderr=subprocess.STDOUT)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()
    for log in logs:
        log.close()


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def ledger_points_by_order(bridge: Bridge) -> dict[str, int]:
    e = t.ledger_entry.c
    with db.read(bridge.rt.engine) as conn:
        rows = conn.execute(
            select(e.cause_id, func.sum(e.points), func.count()).where(e.cause_type == "order").group_by(e.cause_id)
        )
        return {order_id: int(points) for order_id, points, _ in rows}


def test_deliveries_during_a_redis_outage_are_acknowledged_and_applied_when_it_returns(
    make_bridge: Callable[..., Bridge], tmp_path: Path, workers: Callable[[], subprocess.Popen[bytes]]
) -> None:
    # given a bridge on its own Redis, with a worker running
    redis = EmbeddedRedis(tmp_path / "outage.sock").start()
    try:
        bridge = make_bridge(redis_url=redis.url)
        workers()
        bridge.deliver_ok("customer.created")
        wait_until(lambda: bridge.available() == 50)

        # when Redis dies, deliveries are still answered 200 and kept
        redis.stop()
        for name in woo.ORDER_12_SEQUENCE[:5]:
            response = bridge.deliver(name)
            assert response.status_code == 200
        assert bridge.inbox_count("pending") == 5
        assert bridge.available() == 50

        # then, once Redis is back, the worker reconnects, its sweeper finds them, and they are applied once
        redis.start()
        wait_until(lambda: bridge.inbox_count("pending") == 0)
        assert bridge.available() == 50 + 27
    finally:
        redis.stop()


def test_a_worker_killed_mid_drain_doubles_nothing_and_loses_nothing(
    make_bridge: Callable[..., Bridge], workers: Callable[[], subprocess.Popen[bytes]]
) -> None:
    # given a backlog of 500 orders, 3 deliveries each, in small batches
    bridge = make_bridge(inbox={"batch_size": 10})
    orders = range(30_000, 30_500)
    for order_id in orders:
        for name in ("order.created.pending", "order.updated.processing-paid", "order.updated.completed"):
            bridge.send_ok(*woo.with_order_id(name, order_id))
    total = 3 * len(orders)

    # when the worker is killed (SIGKILL, no clean-up) part-way through
    first = workers()
    wait_until(lambda: bridge.inbox_count("done") >= 150)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    done_at_kill = bridge.inbox_count("done")
    assert done_at_kill < total, "the worker finished before it could be killed: make the backlog bigger"

    # then a new worker picks up the rest (the sweeper re-triggers the orphaned shop)
    workers()
    wait_until(lambda: bridge.inbox_count("done") == total, timeout=60)
    assert bridge.inbox_count("failed") == 0
    assert ledger_points_by_order(bridge) == {str(order_id): 35 for order_id in orders}
    assert bridge.available() == 35 * len(orders)


def test_a_failing_delivery_is_retried_then_parked_and_never_blocks_the_others(
    make_bridge: Callable[..., Bridge],
) -> None:
    # given a database that refuses ledger writes for order 777 (a real failure, raised by SQLite itself)
    bridge = make_bridge(inbox={"max_attempts": 3, "retry_base_seconds": 0})
    with db.write(bridge.rt.engine) as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER refuse_777 BEFORE INSERT ON ledger_entry WHEN NEW.cause_id = '777' "
            "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        )
    bridge.send_ok(*woo.with_order_id("order.updated.completed", 777))
    bridge.send_ok(*woo.with_order_id("order.updated.completed", 778))

    # when the worker drains: 778 is applied, 777 is retried up to max_attempts and parked as failed
    bridge.drain()
    assert bridge.available() == 35
    failed = bridge.admin("GET", "/admin/v1/inbox", query_string={"state": "failed"}).get_json()["deliveries"]
    assert [(d["resource_id"], d["attempts"]) for d in failed] == [("777", 3)]
    assert "disk on fire" in failed[0]["last_error"]

    # then, once the cause is fixed, a replay applies it exactly once
    with db.write(bridge.rt.engine) as conn:
        conn.exec_driver_sql("DROP TRIGGER refuse_777")
    assert bridge.admin("POST", f"/admin/v1/inbox/{failed[0]['id']}/replay").status_code == 202
    bridge.drain()
    assert bridge.inbox_count("failed") == 0
    assert bridge.available() == 70


def test_a_failed_attempt_waits_for_its_backoff(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(inbox={"retry_base_seconds": 60})
    with db.write(bridge.rt.engine) as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER refuse_777 BEFORE INSERT ON ledger_entry WHEN NEW.cause_id = '777' "
            "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        )
    bridge.send_ok(*woo.with_order_id("order.updated.completed", 777))
    bridge.drain()
    bridge.drain()
    rows = bridge.admin("GET", "/admin/v1/inbox", query_string={"state": "pending"}).get_json()["deliveries"]
    assert [(d["resource_id"], d["attempts"]) for d in rows] == [("777", 1)]


def test_a_payload_that_cannot_be_parsed_is_parked_at_once(bridge: Bridge) -> None:
    body, headers = woo.signed("order.updated.completed", woo.payload("order.updated.completed") | {"total": "n/a"})
    bridge.send_ok(body, headers)
    bridge.drain()
    failed = bridge.admin("GET", "/admin/v1/inbox", query_string={"state": "failed"}).get_json()["deliveries"]
    assert len(failed) == 1 and failed[0]["attempts"] == 1
    assert "total must be an amount" in failed[0]["last_error"]
