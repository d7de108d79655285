"""A process killed between the debit and the coupon: recovery completes or compensates; ledger and shop agree.

A real ``redeem`` runs in a subprocess against a shop that accepts the coupon request and never answers; the
test SIGKILLs the process while it waits. The debit is committed, the outcome in the shop unknown: exactly the
state a crash leaves. The recovery job (in this process, against the shop's REST model) must then settle it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bridge.redemption.jobs import run_recover
from bridge.storage import db
from bridge.storage import redemptions as store
from bridge.storage.clock import utcnow
from tests.redemption.conftest import Club

pytestmark = pytest.mark.slow

REDEEM_SCRIPT = """
import sys
from bridge import features
from bridge.config import load_settings
from bridge.redemption import service
from bridge.runtime import Runtime

features.load()
rt = Runtime.build(load_settings(sys.argv[1]))
service.redeem(rt, shop_id="shop1", member_id=int(sys.argv[2]), reward_id="five-off", points=None,
               request_key="killed-tab", channel="widget")
print("finished: the kill came too late", flush=True)
"""


class SilentShop:
    """A loopback HTTP server that reads one request and never answers it (a shop hanging mid-request)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.received = threading.Event()
        self.body: bytes = b""
        self.request_line = ""
        self._held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        self._held.append(conn)
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")),
            0,
        )
        while len(body) < length:
            body += conn.recv(65536)
        self.request_line = head.split(b"\r\n")[0].decode()
        self.body = body
        self.received.set()

    def close(self) -> None:
        for conn in self._held:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent_shop() -> Iterator[SilentShop]:
    shop = SilentShop()
    yield shop
    shop.close()


def _redeem_and_kill(club: Club, silent_shop: SilentShop, tmp_path: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "BRIDGE_SHOPS__0__URL": f"http://127.0.0.1:{silent_shop.port}",
        "BRIDGE_PROGRAM__REDEMPTION__SHOP_TIMEOUT_SECONDS": "60",
        "BRIDGE_PROGRAM__REDEMPTION__INLINE_WAIT_SECONDS": "60",
    }
    cmd = [sys.executable, "-c", REDEEM_SCRIPT, str(tmp_path / "config.yaml"), str(club.member_id)]
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert silent_shop.received.wait(60), process.communicate(timeout=5)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    assert silent_shop.request_line.startswith("POST /wp-json/wc/v3/coupons")
    sent: dict[str, Any] = json.loads(silent_shop.body)
    return sent


def _the_redemption(club: Club) -> Any:
    with db.read(club.bridge.rt.engine) as conn:
        found = store.by_request_key(conn, club.member_id, "killed-tab")
    assert found is not None
    return found


def _recover(club: Club) -> dict[str, int]:
    # later than the dead process's lease and the recovery delay
    return run_recover(club.bridge.rt, utcnow() + timedelta(minutes=5))


def test_recovery_creates_the_coupon_the_killed_process_never_got_to_create(
    club: Club, silent_shop: SilentShop, tmp_path: Path
) -> None:
    sent = _redeem_and_kill(club, silent_shop, tmp_path)
    red = _the_redemption(club)
    assert red.state == "reserved" and club.available() == 1500  # debited, no coupon: the crash state
    assert run_recover(club.bridge.rt, utcnow()) == {}  # its lease still runs: nobody steps in yet

    assert _recover(club) == {"issued": 1}

    assert club.shop.calls == [("GET", "coupons"), ("POST", "coupons")]  # looked up before creating
    (coupon,) = club.shop.coupons.values()
    assert coupon["code"] == sent["code"] == _the_redemption(club).code
    assert _the_redemption(club).state == "issued" and club.available() == 1500
    assert _recover(club) == {}  # settled: nothing more to do


def test_recovery_adopts_the_coupon_the_shop_created_before_the_process_died(
    club: Club, silent_shop: SilentShop, tmp_path: Path
) -> None:
    sent = _redeem_and_kill(club, silent_shop, tmp_path)
    # The shop did act on the request whose answer the dead process never read.
    club.shop.coupons[500] = {**sent, "id": 500, "usage_count": 0}

    assert _recover(club) == {"issued": 1}

    assert club.shop.calls == [("GET", "coupons")]  # found, adopted, nothing created twice
    assert list(club.shop.coupons) == [500]
    red = _the_redemption(club)
    assert red.state == "issued" and red.coupon_id == "500" and club.available() == 1500


def test_recovery_compensates_when_the_shop_refuses_for_good(
    club: Club, silent_shop: SilentShop, tmp_path: Path
) -> None:
    _redeem_and_kill(club, silent_shop, tmp_path)
    club.shop.consumer_secret = "revoked"

    assert _recover(club) == {"failed": 1}

    red = _the_redemption(club)
    assert red.state == "failed" and "401" in (red.failure_reason or "")
    assert club.shop.coupons == {} and club.available() == 2000
    kinds = [(e["kind"], e["points"]) for e in club.entries()]
    assert kinds == [("adjust", 2000), ("spend", -500), ("spend", 500)]
