"""/readyz and `bridge status`: what is down (database, Redis, the worker) and since when, from the heartbeat rows
workers write to the database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from bridge.jobs.heartbeat import Heartbeat
from bridge.storage import db
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from tests.support.client import Bridge

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def readyz(bridge: Bridge) -> tuple[int, dict[str, Any]]:
    response = bridge.client.get("/readyz")
    body: dict[str, Any] = response.get_json()
    return response.status_code, body


def test_ready_once_a_worker_beats(bridge: Bridge) -> None:
    # no worker has ever run on this database: the web still takes deliveries, so 200, but not "ready"
    code, body = readyz(bridge)
    assert code == 200 and body["status"] == "degraded"
    assert body["checks"] == {"database": "ok", "redis": "ok", "worker": "never_seen"}

    Heartbeat(bridge.rt).beat()

    code, body = readyz(bridge)
    assert code == 200 and body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "redis": "ok", "worker": "ok"}


def test_a_worker_whose_beat_is_stale_is_down_since_its_last_beat(bridge: Bridge) -> None:
    last_beat = utcnow().replace(microsecond=0) - timedelta(seconds=90)
    with db.write(bridge.rt.engine) as conn:
        conn.execute(
            insert(t.worker_heartbeat).values(
                id="worker-host:4242:1",
                hostname="worker-host",
                pid=4242,
                started_at=last_beat - timedelta(hours=1),
                beat_at=last_beat,
            )
        )

    code, body = readyz(bridge)

    assert code == 200 and body["status"] == "degraded" and body["checks"]["worker"] == "down"
    worker = body["detail"]["worker"]
    assert datetime.fromisoformat(worker["since"]) == last_beat
    assert 90 <= worker["down_seconds"] < 120 and worker["detail"] == "no heartbeat"


def test_a_worker_that_stopped_is_down_at_once(bridge: Bridge) -> None:
    heartbeat = Heartbeat(bridge.rt)
    heartbeat.beat()
    heartbeat.beat(stopped=True)

    code, body = readyz(bridge)

    assert code == 200 and body["checks"]["worker"] == "down" and body["detail"]["worker"]["detail"] == "stopped"


def test_redis_down_is_reported_with_since_when_and_intake_stays_up(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(redis_url=UNREACHABLE_REDIS)
    heartbeat = Heartbeat(bridge.rt)
    heartbeat.beat()
    first_seen = heartbeat.redis_down_since
    heartbeat.beat()

    code, body = readyz(bridge)

    # 200: a load balancer must keep sending deliveries (they wait in the SQL inbox), but it is not "ready"
    assert code == 200 and body["status"] == "degraded"
    assert body["checks"] == {"database": "ok", "redis": "unreachable", "worker": "ok"}
    assert first_seen is not None and heartbeat.redis_down_since == first_seen
    with db.read(bridge.rt.engine) as conn:
        assert conn.execute(select(t.worker_heartbeat.c.redis_down_since)).scalar_one() == first_seen
    assert datetime.fromisoformat(body["detail"]["redis"]["since"]) <= first_seen
    assert bridge.client.get("/healthz").status_code == 200


def test_503_only_when_the_database_is_unreachable(bridge: Bridge, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("makes the SQLite file unopenable")
    path = Path(bridge.rt.engine.url.database or "")
    bridge.rt.engine.dispose()
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    path.mkdir()  # a directory where the database file was: every connection fails
    try:
        code, body = readyz(bridge)
    finally:
        shutil.rmtree(path)
    assert code == 503 and body["status"] == "not_ready" and body["checks"]["database"] == "unreachable"


def _status(config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    return subprocess.run(
        [sys.executable, "-m", "bridge", "--config", str(config), "status", "--offline", "--check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_bridge_status_check_says_what_is_down_and_exits_1(make_bridge: Callable[..., Bridge], tmp_path: Path) -> None:
    bridge = make_bridge(redis_url=UNREACHABLE_REDIS)
    heartbeat = Heartbeat(bridge.rt)
    heartbeat.beat()
    heartbeat.beat(stopped=True)

    result = _status(tmp_path / "config.yaml")

    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["database", "ok"]
    assert lines[1].startswith("redis     unreachable for ") and "(since " in lines[1]
    assert lines[2].startswith("worker    down for ") and lines[2].endswith(": stopped")


def test_bridge_status_check_exits_0_when_all_is_up(bridge: Bridge, tmp_path: Path) -> None:
    Heartbeat(bridge.rt).beat()  # this test process plays the worker

    result = _status(tmp_path / "config.yaml")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[:3] == ["database  ok", "redis     ok", "worker    ok: 1 alive"]
    assert "shop shop1 (woocommerce)" in result.stdout  # then the shop's connection report


def test_bridge_status_json_has_the_checks_and_the_shops(bridge: Bridge, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "--config", str(tmp_path / "config.yaml"), "status", "--offline", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr  # without --check it reports, it does not judge
    body = json.loads(result.stdout)
    assert body["status"] == "degraded" and body["bridge_run_pid"] is None
    assert body["checks"]["worker"] == {"state": "never_seen", "detail": "no worker has run on this database"}
    assert [shop["shop"] for shop in body["shops"]] == ["shop1"]


def test_redis_is_unreachable_when_new_connections_fail_even_if_old_ones_work(
    make_bridge: Callable[..., Bridge], tmp_path: Path
) -> None:
    # given a bridge whose pooled Redis connection works
    from bridge.embedded_redis import EmbeddedRedis

    redis = EmbeddedRedis(tmp_path / "r.sock").start()
    try:
        bridge = make_bridge(redis_url=redis.url)
        assert bridge.rt.redis().ping()

        # when the socket file goes (what a second bridge's redis-server did to the first on exit)
        redis.socket_path.unlink()

        # then the pool's connection still answers, but no new one can be made, and /readyz says so
        assert bridge.rt.redis().ping()
        code, body = readyz(bridge)
        assert code == 200 and body["checks"]["redis"] == "unreachable"
    finally:
        redis.stop()
