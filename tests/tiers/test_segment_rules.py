"""Earning rules for some segments (issue 16) on the real pipeline: the worker and the events API read the member's
segments (filled by the nightly scoring) and award only the segments' members; the widget shows a shopper only the
ways to earn meant for them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bridge.cli import cli
from bridge.segments.jobs import run_scoring
from bridge.web.widget_auth import issue_token
from tests.support import woo
from tests.support.client import SHOP, Bridge
from tests.support.clock import TEST_NOW
from tests.tiers.conftest import carol, order

REGULARS = {"custom": [{"id": "regulars", "name": "Regulars", "min_orders": 1}]}
RULES = [
    {"id": "thanks", "type": "nth_order", "every": 1, "points": 7, "segments": ["regulars"]},
    {"id": "review", "type": "event", "event": "review", "points": 20, "segments": ["regulars"]},
]


def club(make_bridge: Callable[..., Bridge]) -> Bridge:
    return make_bridge(program={"earn": {"signup_points": 0, "rules": RULES}, "segments": REGULARS})


def earned(bridge: Bridge, member_id: int, order_id: int) -> list[tuple[str, int]]:
    return [(e["cause"]["rule"], e["points"]) for e in bridge.ledger(member_id) if e["cause"]["id"] == str(order_id)]


def review(bridge: Bridge, key: str) -> Any:
    body = {"member": {"shop": SHOP, "customer_id": "2"}, "type": "review", "idempotency_key": key}
    return bridge.admin("POST", "/admin/v1/events", json=body)


def explain(tmp_path: Path, order_id: int) -> dict[str, Any]:
    """``bridge rules explain`` of Carol's order ``order_id`` (the test bridge's config is in ``tmp_path``)."""
    order_file = tmp_path / f"order-{order_id}.json"
    order_file.write_text(json.dumps({**woo.payload("order.updated.processing-paid"), "id": order_id}))
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "config.yaml"), "rules", "explain", str(order_file)])
    assert result.exit_code == 0, result.output
    explained: dict[str, Any] = json.loads(result.output)
    return explained


def ways(bridge: Bridge) -> list[str]:
    shop = bridge.rt.settings.shop(SHOP)
    assert shop is not None
    token = issue_token(shop, "2", woo.CAROL)
    response = bridge.client.get(
        "/widget/v1/panel", query_string={"shop": SHOP}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.get_json()
    return [way["id"] for way in response.get_json()["ways_to_earn"]]


def test_a_rule_for_a_segment_awards_once_the_member_is_in_it(
    make_bridge: Callable[..., Bridge], tmp_path: Path
) -> None:
    bridge = club(make_bridge)
    order(bridge, 501)  # Carol's first order: in no segment yet
    member_id = carol(bridge)
    assert earned(bridge, member_id, 501) == [("per_amount", 35)]
    explained = explain(tmp_path, 502)
    assert explained["member"]["segments"] == [] and explained["points"] == 35
    [thanks] = [r for r in explained["rules"] if r["rule_id"] == "thanks"]
    assert thanks["points"] == 0 and thanks["note"] == "only for members in regulars"
    assert review(bridge, "r1").get_json()["points"] == 0
    assert ways(bridge) == ["per_amount"]

    run_scoring(bridge.rt, TEST_NOW)  # the nightly scoring: one paid order makes her a regular
    explained = explain(tmp_path, 502)
    assert "regulars" in explained["member"]["segments"] and explained["points"] == 42
    order(bridge, 502)
    assert sorted(earned(bridge, member_id, 502)) == [("per_amount", 35), ("thanks", 7)]
    assert review(bridge, "r2").get_json()["points"] == 20
    assert ways(bridge) == ["per_amount", "thanks"]  # event rules are not ways to earn in the widget (as before)

    program = bridge.admin("GET", "/admin/v1/program").get_json()
    [thanks] = [w for w in program["ways_to_earn"] if w["id"] == "thanks"]
    assert thanks["segments"] == ["regulars"]  # the owner sees who a rule is for
