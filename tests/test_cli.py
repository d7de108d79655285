"""The `bridge` command as an owner runs it: real processes, real files, exit codes and output."""

from __future__ import annotations

import json
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
from tests.support import woo
from tests.support.client import Bridge
from tests.support.processes import alive

BRIDGE = [sys.executable, "-m", "bridge"]
EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.yaml"


def _bridge(*args: str, config: Path, timeout: float = 60, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    return subprocess.run(
        [*BRIDGE, "--config", str(config), *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd
    )


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


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
        while any(alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in children if alive(pid)]
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


def test_version() -> None:
    result = subprocess.run([*BRIDGE, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("bridge, version ")


def test_a_misspelt_key_stops_with_the_key_and_the_right_spelling(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"program": {"earn": {"signup_point": 100}}}))
    result = _bridge("check-config", config=config)
    assert result.returncode == 2
    assert "program.earn.signup_point: unknown key; did you mean 'signup_points'?" in result.stderr


def test_check_config_warns_about_the_examples_demo_secrets(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(EXAMPLE.read_text())
    result = _bridge("check-config", config=config)
    assert result.returncode == 0, result.stderr
    for key in ("admin.api_keys[0]", "shops[0].webhook_secret", "shops[0].widget_secret"):
        assert f"warning: {key}" in result.stderr
    assert "warning: shop demo has demo: true" in result.stderr  # the demo page is on
    assert "change-me-0123" not in result.stdout + result.stderr  # names the keys, never shows the values


def test_commands_run_elsewhere_use_the_data_dir_beside_the_config(tmp_path: Path) -> None:
    clone, elsewhere = tmp_path / "clone", tmp_path / "elsewhere"
    clone.mkdir()
    elsewhere.mkdir()
    config = clone / "config.yaml"
    config.write_text(yaml.safe_dump({"data_dir": "./data"}))
    before = _bridge("inbox", "list", config=config, cwd=elsewhere)
    assert before.returncode == 1 and "run `bridge db upgrade`" in before.stderr
    _no_traceback(before)
    assert _bridge("db", "upgrade", config=config, cwd=elsewhere).returncode == 0
    after = _bridge("inbox", "list", config=config, cwd=elsewhere)
    assert after.returncode == 0 and after.stdout.strip() == "no deliveries", after.stderr
    assert (clone / "data" / "bridge.db").exists() and list(elsewhere.iterdir()) == []


def test_inbox_list_is_a_table_for_people_and_json_lines_with_json(bridge: Bridge, config_file: Path) -> None:
    bridge.deliver_ok("order.updated.processing-paid")
    table = _bridge("inbox", "list", config=config_file)
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()
    assert header.split()[:4] == ["ID", "STATE", "SHOP_ID", "TOPIC"]
    assert row.split()[1:4] == ["pending", "shop1", "order.updated"]
    lines = _bridge("inbox", "list", "--json", config=config_file).stdout.splitlines()
    assert [json.loads(line)["topic"] for line in lines] == ["order.updated"]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "is not JSON"),
        ("{}", "is not an order (no id, status, line_items)"),
        ("[1, 2]", "must be a JSON object"),
        (json.dumps(woo.load("customer.created")), "it looks like a customer"),
    ],
)
def test_rules_explain_answers_a_wrong_file_in_one_line(config: Path, tmp_path: Path, content: str, says: str) -> None:
    order = tmp_path / "order.json"
    order.write_text(content)
    result = _bridge("rules", "explain", str(order), config=config)
    assert result.returncode == 1 and says in result.stderr
    _no_traceback(result)


def test_a_bad_option_value_is_refused_not_ignored(config: Path) -> None:
    result = _bridge("redemptions", "list", "--state", "bogus", config=config)
    assert result.returncode == 2 and "'bogus' is not one of" in result.stderr


def test_connect_woocommerce_help_says_what_it_does(config: Path) -> None:
    result = _bridge("connect", "woocommerce", "--help", config=config)
    assert result.returncode == 0 and "Connect a WooCommerce store" in result.stdout


def test_a_database_that_does_not_answer_is_named_not_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    port = _free_port()  # nothing listens there
    config.write_text(yaml.safe_dump({"database_url": f"postgresql://bridge:pw-not-shown@127.0.0.1:{port}/bridge"}))
    result = _bridge("inbox", "list", config=config)
    assert result.returncode == 1 and "error: the database (database_url) failed:" in result.stderr
    assert "pw-not-shown" not in result.stderr
    _no_traceback(result)
