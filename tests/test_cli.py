"""The `bridge` command as an owner runs it: real processes, real files, exit codes and output."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.config import Settings

BRIDGE = [sys.executable, "-m", "bridge"]


def _bridge(*args: str, config: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    return subprocess.run(
        [*BRIDGE, "--config", str(config), *args], capture_output=True, text=True, env=env, timeout=timeout
    )


@pytest.fixture
def config(make_settings: Callable[..., Settings], tmp_path: Path) -> Path:
    make_settings()
    return tmp_path / "config.yaml"


def test_check_config_prints_a_summary_without_secrets(config: Path) -> None:
    result = _bridge("check-config", config=config)
    assert result.returncode == 0, result.stderr
    assert "config OK" in result.stdout and "shop1" in result.stdout
    data = yaml.safe_load(config.read_text())
    for secret in (
        data["shops"][0]["webhook_secret"],
        data["shops"][0]["consumer_secret"],
        data["admin"]["api_keys"][0],
    ):
        assert secret not in result.stdout + result.stderr


def test_a_bad_config_stops_with_exit_2_naming_file_key_and_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump({"shops": [{"id": "x", "url": "ftp://shop", "webhook_secret": "s", "currency": "USD"}]})
    )
    result = _bridge("check-config", config=bad)
    assert result.returncode == 2
    assert str(bad) in result.stderr and "shops[0].url" in result.stderr and "http" in result.stderr


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data")}))
    (tmp_path / "data").mkdir()
    first = _bridge("db", "upgrade", config=config)
    second = _bridge("db", "upgrade", config=config)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "database at revision" in second.stdout
    assert (tmp_path / "data" / "bridge.db").exists()


def test_replaying_an_unknown_delivery_exits_1(config: Path) -> None:
    result = _bridge("inbox", "replay", "424242", config=config)
    assert result.returncode == 1 and "no inbox delivery 424242" in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_bridge_run_serves_and_stops_every_child(tmp_path: Path, make_settings: Any, stop_signal: int) -> None:
    make_settings(redis_url="embedded")
    config = tmp_path / "config.yaml"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    process = subprocess.Popen(
        [*BRIDGE, "--config", str(config), "run", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ready = _wait_ready(port, process)
        children = _descendants(process.pid)
        assert ready, "the bridge never answered /readyz"
        assert len(children) >= 3  # redis-server, worker, gunicorn (+ its workers)
        process.send_signal(stop_signal)
        assert process.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in children if _alive(pid)]
    finally:
        if process.poll() is None:
            process.kill()


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never through a proxy
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with opener.open(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False
