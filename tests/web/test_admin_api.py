"""/admin/v1: API keys, members and balances, audited idempotent adjustments, inbox replay, readiness."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bridge.storage import db
from bridge.storage import tables as t
from tests.support import woo
from tests.support.client import ADMIN_KEY, Bridge


def _member_with_points(bridge: Bridge) -> dict[str, Any]:
    for name in woo.ORDER_12_SEQUENCE[:4]:
        bridge.deliver_ok(name)
    bridge.drain()
    member = bridge.member(woo.CAROL)
    assert member is not None and member["balance"]["available"] == 35
    return member


@pytest.mark.parametrize("header", [None, "Bearer wrong-key-0123456789", f"Basic {ADMIN_KEY}", "Bearer "])
def test_every_admin_route_needs_a_valid_key(bridge: Bridge, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    for method, path in [
        ("GET", "/admin/v1/members"),
        ("GET", "/admin/v1/members/1"),
        ("GET", "/admin/v1/members/1/ledger"),
        ("POST", "/admin/v1/members/1/adjustments"),
        ("GET", "/admin/v1/inbox"),
        ("POST", "/admin/v1/inbox/1/replay"),
        ("GET", "/admin/v1/shops"),
    ]:
        response = bridge.client.open(path, method=method, headers=headers, json={})
        assert response.status_code == 401, (method, path)
        assert response.get_json()["error"]["code"] == "unauthorized"
        assert ADMIN_KEY not in response.get_data(as_text=True)


def test_member_balance_and_ledger(bridge: Bridge) -> None:
    member = _member_with_points(bridge)
    entries = bridge.ledger(member["id"])
    assert [(e["kind"], e["points"]) for e in entries] == [("earn", 35)]
    assert bridge.admin("GET", "/admin/v1/members/999999").status_code == 404
    assert (
        bridge.admin("GET", "/admin/v1/members", query_string={"email": "CAROL1795473173@Example.TEST"}).get_json()[
            "members"
        ][0]["id"]
        == member["id"]
    )


def test_an_adjustment_is_created_once_per_key_and_audited(bridge: Bridge) -> None:
    member = _member_with_points(bridge)
    path = f"/admin/v1/members/{member['id']}/adjustments"
    body = {"points": 15, "reason": "apology for a late parcel"}

    first = bridge.admin("POST", path, json=body, headers={"Idempotency-Key": "ticket-42"})
    again = bridge.admin("POST", path, json=body, headers={"Idempotency-Key": "ticket-42"})
    conflict = bridge.admin("POST", path, json={**body, "points": 20}, headers={"Idempotency-Key": "ticket-42"})

    assert first.status_code == 201 and first.get_json()["balance"]["available"] == 50
    assert again.status_code == 200 and again.get_json()["entry"]["id"] == first.get_json()["entry"]["id"]
    assert conflict.status_code == 409 and conflict.get_json()["error"]["code"] == "idempotency_conflict"
    assert bridge.available() == 50
    with db.read(bridge.rt.engine) as conn:
        audits = conn.execute(select(t.audit_log.c.action, t.audit_log.c.actor)).all()
    assert len(audits) == 1 and audits[0].actor.startswith("api-key:") and ADMIN_KEY not in audits[0].actor


def test_a_deduction_never_overdraws(bridge: Bridge) -> None:
    member = _member_with_points(bridge)
    response = bridge.admin(
        "POST", f"/admin/v1/members/{member['id']}/adjustments", json={"points": -36, "reason": "x"}
    )
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "insufficient_points"
    assert bridge.available() == 35


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"points": 0, "reason": "zero"}, 422),
        ({"points": "10", "reason": "a string"}, 422),
        ({"points": 10}, 422),
        ({"points": 10, "reason": "x", "extra": True}, 422),
        (["not", "an", "object"], 400),
    ],
)
def test_bad_adjustments_change_nothing(bridge: Bridge, body: Any, status: int) -> None:
    member = _member_with_points(bridge)
    response = bridge.admin("POST", f"/admin/v1/members/{member['id']}/adjustments", json=body)
    assert response.status_code == status
    assert "error" in response.get_json()
    assert bridge.available() == 35


def test_a_failed_delivery_can_be_replayed(bridge: Bridge) -> None:
    data = woo.payload("order.updated.completed")
    data["total"] = "not money"
    body, headers = woo.signed("order.updated.completed", data)
    bridge.send_ok(body, headers)
    bridge.drain()
    failed = bridge.admin("GET", "/admin/v1/inbox", query_string={"state": "failed"}).get_json()["deliveries"]
    assert len(failed) == 1 and "total" in failed[0]["last_error"]

    replayed = bridge.admin("POST", f"/admin/v1/inbox/{failed[0]['id']}/replay")

    assert replayed.status_code == 202 and bridge.inbox_count("pending") == 1
    assert bridge.admin("POST", "/admin/v1/inbox/999999/replay").status_code == 404
