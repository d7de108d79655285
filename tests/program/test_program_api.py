"""The program as data through the admin API: drafts validated, previewed, published, restored; awards follow."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from bridge.storage import db
from bridge.storage import tables as t
from tests.integration.conftest import BOTH_BACKENDS
from tests.program.conftest import draft, publish, published, with_rate
from tests.support import woo
from tests.support.client import SHOP, Bridge

PAID = "order.updated.processing-paid"  # line total 35.00: 35 points at 1 per currency unit


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def order_entries(bridge: Bridge, order_id: str) -> list[dict[str, Any]]:
    """The earn entries of one order, as the admin API lists them."""
    member = bridge.member(woo.CAROL)
    assert member is not None
    return [e for e in bridge.ledger(member["id"]) if e["kind"] == "earn" and e["cause"]["id"] == order_id]


def deliver_order(bridge: Bridge, order_id: int) -> None:
    bridge.send_ok(*woo.with_order_id(PAID, order_id))
    bridge.drain()


def audit_actions(bridge: Bridge) -> list[tuple[str, str]]:
    with db.read(bridge.rt.engine) as conn:
        rows = conn.execute(select(t.audit_log.c.action, t.audit_log.c.target_id).order_by(t.audit_log.c.id))
        return [(r.action, r.target_id) for r in rows if r.action.startswith("program.")]


def test_the_configured_program_is_version_one(bridge: Bridge) -> None:
    body = published(bridge)
    assert body["version"] == 1 and body["actor"] == "config" and body["base_version"] is None
    assert body["program"]["id"] == "club" and body["program"]["earn"]["points_per_currency_unit"] == "1"
    versions = bridge.admin("GET", "/admin/v1/program/versions").get_json()
    assert versions["published"] == 1 and [v["version"] for v in versions["versions"]] == [1]
    # the ways to earn keep their own listing
    assert bridge.admin("GET", "/admin/v1/program").get_json()["ways_to_earn"]
    assert bridge.client.get("/admin/v1/program/published").status_code == 401


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"earn": {"rounding": "sideways"}}, "program.earn.rounding"),
        ({"earn": {"signup_point": 100}}, "program.earn.signup_point"),
        ({"earn": {"points_per_currency_unit": "lots"}}, "program.earn.points_per_currency_unit"),
        (
            {"rewards": [{"id": "x", "title": "X", "type": "percent", "points": 10, "value": 150}]},
            "program.rewards[0].value",
        ),
        ({"id": "another"}, "program.id"),
    ],
)
def test_an_invalid_draft_is_422_with_the_key_path_and_stores_nothing(
    bridge: Bridge, change: dict[str, Any], path: str
) -> None:
    document = {**published(bridge)["program"], **change}
    if "earn" in change:
        document["earn"] = {**published(bridge)["program"]["earn"], **change["earn"]}
    response = bridge.admin("POST", "/admin/v1/program/drafts", json=document)
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and path in error["fields"], error
    with db.read(bridge.rt.engine) as conn:
        assert conn.execute(select(t.program_draft)).first() is None
    assert bridge.admin("POST", "/admin/v1/program/drafts", json=[1]).status_code == 400


def test_preview_shows_the_published_and_the_draft_award_and_the_draft_awards_nothing(bridge: Bridge) -> None:
    doubled = draft(bridge, with_rate(published(bridge)["program"], "2"), reason="double points week")
    assert doubled["base_version"] == 1 and "+    points_per_currency_unit: '2'" in doubled["diff"]
    order = woo.payload(PAID)
    response = bridge.admin(
        "POST", f"/admin/v1/program/drafts/{doubled['id']}/preview", json={"shop_id": SHOP, "order": order}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["published"]["version"], body["published"]["points"]) == (1, 35)
    assert (body["draft"]["id"], body["draft"]["points"]) == (doubled["id"], 70)
    missing = bridge.admin("POST", "/admin/v1/program/drafts/999/preview", json={"shop_id": SHOP, "order": order})
    assert missing.status_code == 404

    deliver_order(bridge, 12)  # a draft never affects awards
    [entry] = order_entries(bridge, "12")
    assert (entry["points"], entry["program_version"]) == (35, 1)
    assert published(bridge)["version"] == 1


def test_publish_changes_the_next_award_and_restore_brings_the_old_one_back(bridge: Bridge) -> None:
    deliver_order(bridge, 12)
    doubled = draft(bridge, with_rate(published(bridge)["program"], "2"))
    assert publish(bridge, doubled["id"]) == 2
    body = published(bridge)
    assert (
        body["version"] == 2
        and body["base_version"] == 1
        and body["program"]["earn"]["points_per_currency_unit"] == "2"
    )

    deliver_order(bridge, 13)
    [entry] = order_entries(bridge, "13")
    assert (entry["points"], entry["program_version"]) == (70, 2)
    assert [(e["points"], e["program_version"]) for e in order_entries(bridge, "12")] == [(35, 1)]  # kept as was

    again = bridge.admin("POST", f"/admin/v1/program/drafts/{doubled['id']}/publish")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "draft_already_published"

    restored = bridge.admin("POST", "/admin/v1/program/versions/1/restore", json={"reason": "campaign over"})
    assert restored.status_code == 200, restored.get_data(as_text=True)
    assert restored.get_json() == {"version": 3, "restored": 1}
    deliver_order(bridge, 14)
    [entry] = order_entries(bridge, "14")
    assert (entry["points"], entry["program_version"]) == (35, 3)
    versions = bridge.admin("GET", "/admin/v1/program/versions").get_json()["versions"]
    assert [(v["version"], v["reason"]) for v in versions] == [
        (3, "campaign over"),
        (2, "test"),
        (1, "config.yaml"),
    ]
    assert versions[0]["actor"].startswith("api-key:")
    assert audit_actions(bridge) == [("program.publish", "2"), ("program.restore", "3")]
    assert bridge.admin("POST", "/admin/v1/program/versions/99/restore").status_code == 404


def test_a_past_award_is_explained_with_the_rules_of_its_version(bridge: Bridge) -> None:
    deliver_order(bridge, 12)
    [entry] = order_entries(bridge, "12")
    assert publish(bridge, draft(bridge, with_rate(published(bridge)["program"], "2"))["id"]) == 2

    def explained(**extra: int) -> dict[str, object]:
        body = {"shop_id": SHOP, "order": woo.payload(PAID), **extra}
        response = bridge.admin("POST", "/admin/v1/rules/preview", json=body)
        assert response.status_code == 200, response.get_data(as_text=True)
        answer: dict[str, object] = response.get_json()
        return answer

    assert (explained()["points"], explained()["program_version"]) == (70, 2)  # today's rules
    then = explained(program_version=entry["program_version"])
    assert (then["points"], then["program_version"]) == (entry["points"], 1) == (35, 1)
    missing = bridge.admin(
        "POST", "/admin/v1/rules/preview", json={"shop_id": SHOP, "order": woo.payload(PAID), "program_version": 9}
    )
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "version_not_found"


def test_a_draft_based_on_an_older_version_is_refused_with_its_base(bridge: Bridge) -> None:
    document = published(bridge)["program"]
    first, second = draft(bridge, with_rate(document, "2")), draft(bridge, with_rate(document, "3"))
    assert publish(bridge, first["id"]) == 2
    response = bridge.admin("POST", f"/admin/v1/program/drafts/{second['id']}/publish")
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert (error["code"], error["base_version"], error["published_version"]) == ("program_moved", 1, 2)
    assert published(bridge)["program"]["earn"]["points_per_currency_unit"] == "2"


def test_two_concurrent_publishes_of_one_base_one_wins(bridge: Bridge) -> None:
    document = published(bridge)["program"]
    drafts = [draft(bridge, with_rate(document, rate))["id"] for rate in ("2", "3")]
    start = threading.Barrier(len(drafts))
    statuses: dict[int, int] = {}

    def publish_one(draft_id: int) -> None:
        client = bridge.app.test_client()
        start.wait()
        response = client.post(
            f"/admin/v1/program/drafts/{draft_id}/publish",
            headers={"Authorization": f"Bearer {_admin_key()}"},
        )
        statuses[draft_id] = response.status_code

    threads = [threading.Thread(target=publish_one, args=(d,)) for d in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses.values()) == [200, 409]
    winner = next(d for d, status in statuses.items() if status == 200)
    body = published(bridge)
    assert body["version"] == 2
    assert body["program"]["earn"]["points_per_currency_unit"] == ("2" if winner == drafts[0] else "3")
    versions = bridge.admin("GET", "/admin/v1/program/versions").get_json()["versions"]
    assert [v["version"] for v in versions] == [2, 1]


def test_another_process_follows_a_publish_at_its_next_check(make_bridge: Callable[..., Bridge]) -> None:
    web, worker = make_bridge(), make_bridge()  # two runtimes over one database: two processes
    rt = worker.rt
    assert rt.SHOPS_CHECK_SECONDS <= 5
    rt._shops_check_due = float("inf")  # the worker checked a moment ago: its next check is not due yet
    doubled = draft(web, with_rate(published(web)["program"], "2"))
    assert publish(web, doubled["id"]) == 2
    assert web.rt.program_version == 2  # the publishing process at once

    deliver_order(worker, 12)  # before its next check the worker reads nothing per request: still version 1
    assert rt.program_version == 1
    [entry] = order_entries(worker, "12")
    assert (entry["points"], entry["program_version"]) == (35, 1)

    rt._shops_check_due = float("-inf")  # SHOPS_CHECK_SECONDS pass
    deliver_order(worker, 13)
    assert rt.program_version == 2 and rt.settings.program.earn.points_per_currency_unit == 2
    [entry] = order_entries(worker, "13")
    assert (entry["points"], entry["program_version"]) == (70, 2)


def _admin_key() -> str:
    from tests.support.client import ADMIN_KEY

    return ADMIN_KEY
