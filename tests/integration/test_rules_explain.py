"""Explain, preview and ways to earn: the worker's own evaluation, shown without writing anything."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bridge.cli import cli
from bridge.jobs import schedule
from bridge.web import widget_panel
from bridge.web.widget_auth import Shopper
from tests.support import woo
from tests.support.client import SHOP, Bridge
from tests.support.woo_rest import FakeWooShop

RULES: list[dict[str, Any]] = [
    {"id": "base", "type": "per_amount", "points": 1, "per": 1, "name": "Shop with us"},
    {"id": "welcome", "type": "first_order", "points": 100},
    {"id": "no-tea", "type": "exclusion", "skus": ["NOPE"]},
    {"id": "daily", "type": "cap", "period": "day", "max_points": 120},
    {"id": "bday", "type": "birthday", "points": 20},
]
FIXTURES = Path(__file__).parent.parent / "fixtures" / "woocommerce"


@pytest.fixture
def bridge(make_bridge: Callable[..., Bridge]) -> Bridge:
    return make_bridge(program={"earn": {"rules": RULES}})


def test_explain_shows_each_rule_and_the_worker_posts_exactly_that(bridge: Bridge, tmp_path: Path) -> None:
    runner = CliRunner()
    config = str(tmp_path / "config.yaml")
    order_file = str(FIXTURES / "order.updated.processing-paid.json")
    result = runner.invoke(cli, ["--config", config, "rules", "explain", order_file], obj={})
    assert result.exit_code == 0, result.output
    explained = json.loads(result.output)
    assert explained["points"] == 120
    by_rule = {r["rule_id"]: r for r in explained["rules"]}
    assert by_rule["base"]["points"] == 35 and by_rule["base"]["base"] == "35.00"
    assert by_rule["welcome"]["points"] == 85 and by_rule["welcome"]["caps_hit"] == ["daily"]
    assert explained["member"]["id"] is None  # nobody was created by explaining

    bridge.deliver_ok("order.updated.processing-paid")
    bridge.drain()
    assert bridge.balance()["available"] == explained["points"]

    again = runner.invoke(cli, ["--config", config, "rules", "explain", order_file], obj={})
    assert json.loads(again.output)["member"]["paid_orders_before"] == 0  # the order itself is not "before"
    usage = runner.invoke(cli, ["--config", config, "rules", "explain"], obj={})
    assert usage.exit_code != 0


def test_explain_reads_the_order_from_the_shop(bridge: Bridge, woo_shop: FakeWooShop, tmp_path: Path) -> None:
    woo_shop.orders[12] = woo.payload("order.updated.completed")
    config = str(tmp_path / "config.yaml")
    result = CliRunner().invoke(cli, ["--config", config, "rules", "explain", "--shop", SHOP, "--order", "12"], obj={})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["points"] == 120
    missing = CliRunner().invoke(cli, ["--config", config, "rules", "explain", "--order", "99"], obj={})
    assert missing.exit_code == 1 and "order 99 from shop shop1" in missing.output


def test_preview_endpoint_uses_the_same_evaluation(bridge: Bridge) -> None:
    order = woo.payload("order.updated.processing-paid")
    response = bridge.admin("POST", "/admin/v1/rules/preview", json={"shop_id": SHOP, "order": order})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["points"] == 120 and body["points_state"] == "available"
    assert [a["rule_id"] for a in body["awards"]] == ["base", "welcome"]

    assert bridge.admin("POST", "/admin/v1/rules/preview", json={"shop_id": "nope", "order": order}).status_code == 404
    assert bridge.admin("POST", "/admin/v1/rules/preview", json={"order": {"id": "x"}}).status_code in (400, 422)
    assert bridge.admin("POST", "/admin/v1/rules/preview", json={"bogus": 1}).status_code in (400, 422)
    assert bridge.client.post("/admin/v1/rules/preview", json={"order": order}).status_code == 401


def test_program_lists_the_ways_to_earn_for_shoppers(bridge: Bridge) -> None:
    response = bridge.admin("GET", "/admin/v1/program")
    assert response.status_code == 200
    ways = response.get_json()["ways_to_earn"]
    assert [(w["id"], w["title"], w["points"]) for w in ways] == [
        ("signup", "Create an account", 50),
        ("base", "Shop with us", "1"),
        ("welcome", "Your first order", 100),
        ("bday", "Your birthday", 20),
    ]
    assert ways[1]["description"] == "1 point for every USD spent"

    with bridge.app.app_context():
        from bridge.storage import db

        with db.read(bridge.rt.engine) as conn:
            shopper = Shopper(shop_id=SHOP, customer_id="2", email=woo.CAROL)
            panel = widget_panel.render(widget_panel.PanelRequest(bridge.rt, conn, shopper, None, "en"))
    assert panel["ways_to_earn"] == ways


def test_invite_only_members_earn_once_invited(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(program={"membership": {"policy": "invite_only"}})
    bridge.deliver_ok("customer.created")
    bridge.deliver_ok("order.updated.processing-paid")
    bridge.drain()
    member = bridge.member(woo.CAROL)
    assert member is not None and bridge.available() == 0
    invited = bridge.admin("POST", f"/admin/v1/members/{member['id']}/invite")
    assert invited.status_code == 200, invited.get_data(as_text=True)
    body, headers = woo.with_order_id("order.updated.processing-paid", 77)
    bridge.send_ok(body, headers)
    bridge.drain()
    assert bridge.available() == 35
    assert bridge.admin("POST", "/admin/v1/members/99999/invite").status_code == 404


def test_the_worker_scheduler_runs_the_point_life_jobs(bridge: Bridge) -> None:
    ran = schedule.run_due(bridge.rt, {}, 0.0)
    assert {"points.birthdays", "points.release"} <= set(ran)
    assert "points.expire" not in ran  # expiry mode none


def test_the_profile_sets_what_the_rules_read(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(program={"earn": {"tier_multipliers": {"gold": 2}}})
    bridge.deliver_ok("customer.created")
    bridge.drain()
    member = bridge.member(woo.CAROL)
    assert member is not None
    path = f"/admin/v1/members/{member['id']}/profile"
    updated = bridge.admin("PATCH", path, json={"birthday": "1990-03-15", "tier": "gold"})
    assert updated.status_code == 200, updated.get_data(as_text=True)
    assert updated.get_json() | {"joined_at": None} == {
        "member_id": member["id"],
        "joined_at": None,
        "birthday": "1990-03-15",
        "tier": "gold",
    }
    assert bridge.admin("GET", path).get_json()["tier"] == "gold"
    bridge.deliver_ok("order.updated.processing-paid")
    bridge.drain()
    assert bridge.available() == 50 + 2 * 35  # the gold multiplier on the amount rule
    assert bridge.admin("PATCH", path, json={"tier": ""}).status_code in (400, 422)
    assert bridge.admin("PATCH", path, json={"colour": "red"}).status_code in (400, 422)
    assert bridge.admin("GET", "/admin/v1/members/99999/profile").status_code == 404
