"""``scripts/run`` on the demo config: the newcomer reads an e-mail and a password off the terminal and is in
the console within a minute. Shown once; a real configuration (no demo shop) gets no such account."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge.console import demo, users
from bridge.console.routing import Role
from tests.console.conftest import Console
from tests.support.client import Bridge
from tests.test_cli import BRIDGE, _free_port, _wait_ready
from tests.web.test_widget_demo import DEMO_SHOP

CREDENTIALS = re.compile(r"Owner console: (\S+)  e-mail (\S+)  password (\S+)")


def test_the_demo_owner_is_made_once_and_only_with_a_demo_shop(make_bridge: Callable[..., Bridge]) -> None:
    plain = make_bridge()
    assert demo.ensure_demo_owner(plain.rt) is None  # a real shop: no demo account
    assert not users.exists_any(plain.rt.engine)

    bridge = make_bridge(shops=[DEMO_SHOP])
    password = demo.ensure_demo_owner(bridge.rt)
    assert password is not None and len(password) >= 16
    assert demo.ensure_demo_owner(bridge.rt) is None  # the second run shows no password: none was made
    console = Console(bridge)
    assert console.login(console.client(), demo.DEMO_OWNER, password).status_code == 302
    assert [u["role"] for u in users.listing(bridge.rt.engine)] == [Role.OWNER.value]


def test_an_installation_with_users_gets_no_demo_owner(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(shops=[DEMO_SHOP])
    Console(bridge).add_user(Role.OWNER, "me@shop.test")
    assert demo.ensure_demo_owner(bridge.rt) is None


@pytest.mark.slow
def test_bridge_run_prints_the_demo_owner_who_signs_in(tmp_path: Path, make_settings: Any) -> None:
    make_settings(redis_url="embedded", shops=[DEMO_SHOP])
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    log = tmp_path / "run.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*BRIDGE, "--config", str(tmp_path / "config.yaml"), "run", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        assert _wait_ready(port, process), log.read_text()
        deadline = time.monotonic() + 10
        while not (found := CREDENTIALS.search(log.read_text())) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert found, log.read_text()
        url, email, password = found.groups()
        assert url == f"http://127.0.0.1:{port}/console/" and email == demo.DEMO_OWNER

        browser = requests.Session()
        browser.trust_env = False  # loopback, never through a proxy
        form = browser.get(url, timeout=10)  # -> the login page
        assert form.url.startswith(f"http://127.0.0.1:{port}/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        answer = browser.post(
            f"http://127.0.0.1:{port}/console/login",
            data={"email": email, "password": password, "csrf_token": token.group(1)},
            timeout=10,
        )
        assert answer.status_code == 200 and answer.url == url
        assert "<h1>Overview</h1>" in answer.text
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
