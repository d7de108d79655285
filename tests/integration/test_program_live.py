"""The program edited live on a running `bridge run` (2 gunicorn workers + a worker), as an owner does it: publish a
new reward and a campaign through the admin API; within 5 s every web worker lists the reward and the worker awards
under the campaign — no restart; restore the old version and the next order earns as before; every entry keeps the
version it was computed with (issue 14)."""

from __future__ import annotations

import copy
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from tests.integration.test_supervisor import OPENER, RunningBridge, run_bridge, wait_until
from tests.support import woo
from tests.support.client import ADMIN_KEY, SHOP
from tests.support.clock import TEST_NOW

__all__ = ["run_bridge"]  # the fixture, shared with the supervisor's tests

pytestmark = pytest.mark.slow

PUBLISH_SECONDS = 5.0  # the bound: every process follows a publish within this
PAID = "order.updated.processing-paid"  # 35.00: 35 points at 1 per currency unit


def call(bridge: RunningBridge, method: str, path: str, body: Any = None, admin: bool = True) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", "Connection": "close"}  # a new connection: any web worker
    if admin:
        headers["Authorization"] = f"Bearer {ADMIN_KEY}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{bridge.port}{path}", data, headers, method=method)
    try:
        with OPENER.open(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def deliver(bridge: RunningBridge, order_id: int) -> None:
    body, headers = woo.with_order_id(PAID, order_id)
    request = urllib.request.Request(f"http://127.0.0.1:{bridge.port}/webhooks/woocommerce/{SHOP}", body, headers)
    with OPENER.open(request, timeout=10) as response:
        assert response.status == 200


def earned(bridge: RunningBridge, order_id: int) -> Callable[[], dict[str, Any] | None]:
    """The order's earn entry (points, program_version) once the worker has applied it."""

    def entry() -> dict[str, Any] | None:
        status, found = call(bridge, "GET", f"/admin/v1/members?email={woo.CAROL}")
        if status != 200 or not found["members"]:
            return None
        member_id = found["members"][0]["id"]
        _, ledger = call(bridge, "GET", f"/admin/v1/members/{member_id}/ledger?limit=200")
        return next(
            (e for e in ledger["entries"] if e["kind"] == "earn" and e["cause"]["id"] == str(order_id)),
            None,
        )

    return entry


def lists_reward(bridge: RunningBridge, reward_id: str) -> bool:
    """Every answer of several fresh connections (spread over the web workers) lists the reward."""
    answers = [call(bridge, "GET", f"/widget/v1/club?shop={SHOP}", admin=False) for _ in range(8)]
    return all(
        status == 200 and reward_id in {r["id"] for r in body["rewards"]["catalogue"]} for status, body in answers
    )


def with_tea_and_a_campaign(document: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed["rewards"].append({"id": "tea", "title": {"en": "A cup of tea", "fa": "یک فنجان چای"},
                               "type": "fixed_cart", "points": 100, "value": "2"})  # fmt: skip
    changed["earn"]["rules"].append(
        {
            "id": "double-weekend",
            "type": "campaign",
            "multiplier": 2,
            "starts": (TEST_NOW - timedelta(days=30)).isoformat(),  # the captured orders were paid days ago
            "ends": (TEST_NOW + timedelta(days=2)).isoformat(),
        }
    )
    return changed


def test_a_publish_reaches_every_process_of_a_running_bridge_within_seconds(
    run_bridge: Callable[..., RunningBridge],
) -> None:
    bridge = run_bridge(args=("--workers", "2"))  # each gunicorn worker must hear of the publish
    deliver(bridge, 7001)
    wait_until(lambda: earned(bridge, 7001)() is not None, 30, "the first order's award")
    before = earned(bridge, 7001)()
    assert before is not None and (before["points"], before["program_version"]) == (35, 1)
    assert not lists_reward(bridge, "tea")

    status, published = call(bridge, "GET", "/admin/v1/program/published")
    assert status == 200 and published["version"] == 1
    status, draft = call(bridge, "POST", "/admin/v1/program/drafts", with_tea_and_a_campaign(published["program"]))
    assert status == 201, draft
    status, answer = call(bridge, "POST", f"/admin/v1/program/drafts/{draft['id']}/publish", {"reason": "weekend"})
    assert (status, answer["version"]) == (200, 2)
    published_at = time.monotonic()

    wait_until(lambda: lists_reward(bridge, "tea"), PUBLISH_SECONDS, "every web worker listing the new reward")
    deliver(bridge, 7002)  # the worker prices this order: under the campaign if it follows the publish
    wait_until(lambda: earned(bridge, 7002)() is not None, 30, "the second order's award")
    campaign = earned(bridge, 7002)()
    assert campaign is not None and (campaign["points"], campaign["program_version"]) == (70, 2)
    assert time.monotonic() - published_at < 2 * PUBLISH_SECONDS  # listed and awarded, with the order's drain

    status, restored = call(bridge, "POST", "/admin/v1/program/versions/1/restore", {"reason": "weekend over"})
    assert (status, restored["version"]) == (200, 3)
    wait_until(lambda: not lists_reward(bridge, "tea"), PUBLISH_SECONDS, "the reward gone from every web worker")
    deliver(bridge, 7003)
    wait_until(lambda: earned(bridge, 7003)() is not None, 30, "the third order's award")
    after = earned(bridge, 7003)()
    assert after is not None and (after["points"], after["program_version"]) == (35, 3)

    # Entries keep the version they were computed with.
    kept = [earned(bridge, order)() for order in (7001, 7002, 7003)]
    assert [(e["points"], e["program_version"]) for e in kept if e] == [(35, 1), (70, 2), (35, 3)]
    assert "Traceback" not in bridge.log()
