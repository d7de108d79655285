"""The owner's override: a tier until a date, audited, in the history; earning above it still moves the member
up; at its end the member has what earning gives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select

from bridge.storage import db
from bridge.storage import tables as t
from bridge.tiers.jobs import run_review
from tests.support import woo
from tests.support.client import Bridge
from tests.tiers.conftest import carol, order


def tier(bridge: Bridge) -> dict[str, str] | None:
    member = bridge.member(woo.CAROL)
    assert member is not None
    found: dict[str, str] | None = member["tier"]
    return found


def test_an_override_holds_until_its_end_then_the_earned_tier_returns(tiered: Callable[..., Bridge]) -> None:
    bridge = tiered()
    order(bridge, 501)  # silver
    member_id = carol(bridge)
    response = bridge.admin(
        "PUT",
        f"/admin/v1/members/{member_id}/tier-override",
        json={"tier": "platinum", "until": "2026-12-31T00:00:00Z", "reason": "partner VIP"},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["tier"]["id"] == "platinum"
    current = tier(bridge)
    assert current is not None and current["id"] == "platinum" and current["source"] == "override"

    order(bridge, 502)  # earning reaches gold under the override: recorded, the override stays (it is higher)
    assert run_review(bridge.rt, datetime(2026, 12, 30, tzinfo=UTC))["overrides_ended"] == 0
    assert run_review(bridge.rt, datetime(2026, 12, 31, tzinfo=UTC))["overrides_ended"] == 1
    current = tier(bridge)
    assert current is not None and current["id"] == "gold" and current["source"] == "earned"

    body = bridge.admin("GET", f"/admin/v1/members/{member_id}/tiers").get_json()
    changes = [(c["from"], c["to"], c["reason"], c["actor"]) for c in reversed(body["history"])]
    assert changes[0][:3] == (None, "silver", "qualified")
    assert changes[1][1:] == ("platinum", "override", changes[1][3]) and changes[1][3]  # who did it
    assert changes[2][:3] == ("platinum", "gold", "override_end")
    with db.read(bridge.rt.engine) as conn:
        audited = conn.execute(
            select(t.audit_log.c.action, t.audit_log.c.details).where(t.audit_log.c.action == "member.tier_override")
        ).all()
    assert len(audited) == 1 and audited[0].details["reason"] == "partner VIP"


def test_earning_above_an_override_moves_the_member_up(tiered: Callable[..., Bridge]) -> None:
    bridge = tiered()
    order(bridge, 501)
    member_id = carol(bridge)
    bridge.admin(
        "PUT",
        f"/admin/v1/members/{member_id}/tier-override",
        json={"tier": "silver", "until": "2027-06-01T00:00:00Z", "reason": "keep"},
    )
    order(bridge, 502)
    current = tier(bridge)
    assert current is not None and current["id"] == "gold" and current["source"] == "earned"


def test_bad_overrides_are_clear_4xx_and_change_nothing(tiered: Callable[..., Bridge]) -> None:
    bridge = tiered()
    order(bridge, 501)
    member_id = carol(bridge)
    path = f"/admin/v1/members/{member_id}/tier-override"
    unknown = bridge.admin("PUT", path, json={"tier": "diamond", "until": "2027-01-01T00:00:00Z", "reason": "x"})
    assert unknown.status_code == 422 and unknown.get_json()["error"]["code"] == "unknown_tier"
    past = bridge.admin("PUT", path, json={"tier": "gold", "until": "2020-01-01T00:00:00Z", "reason": "x"})
    assert past.status_code == 422
    missing = bridge.admin("PUT", path, json={"tier": "gold"})
    assert missing.status_code in (400, 422)
    nobody = bridge.admin(
        "PUT",
        "/admin/v1/members/999999/tier-override",
        json={"tier": "gold", "until": "2027-01-01T00:00:00Z", "reason": "x"},
    )
    assert nobody.status_code == 404
    current = tier(bridge)
    assert current is not None and current["id"] == "silver"


def test_an_override_can_be_ended_by_the_owner(tiered: Callable[..., Bridge]) -> None:
    bridge = tiered()
    order(bridge, 501)
    member_id = carol(bridge)
    path = f"/admin/v1/members/{member_id}/tier-override"
    bridge.admin("PUT", path, json={"tier": "gold", "until": "2027-01-01T00:00:00Z", "reason": "trial"})
    response = bridge.admin("DELETE", path)
    assert response.status_code == 200 and response.get_json()["tier"]["id"] == "silver"


def test_a_hand_set_profile_tier_is_refused_when_tiers_are_earned(tiered: Callable[..., Bridge]) -> None:
    bridge = tiered()
    order(bridge, 501)
    response = bridge.admin("PATCH", f"/admin/v1/members/{carol(bridge)}/profile", json={"tier": "gold"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "tier_is_earned"
    current = tier(bridge)
    assert current is not None and current["id"] == "silver"
