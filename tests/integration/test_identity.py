"""Issue 12 §1: a member's points are reachable only through the shop account that owns them, never through an
e-mail someone typed (an order's billing e-mail, a widget token's ``email`` claim).

The real pipeline on SQLite and PostgreSQL: signed webhooks in, the RQ worker, the admin and widget APIs out.
docs/adr/0007-members-are-keyed-on-accounts.md states the rules these tests hold the bridge to.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from bridge.storage import db
from bridge.storage import members as member_store
from bridge.storage import tables as t
from bridge.web.widget_auth import issue_token
from tests.integration.conftest import BOTH_BACKENDS
from tests.support import woo
from tests.support.client import SHOP, Bridge

VICTIM = "victim@example.test"  # customer 7001's own e-mail
REWARDS = [{"id": "free-ship", "title": "Free shipping", "type": "free_shipping", "points": 300}]


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def bridge(make_bridge: Callable[..., Bridge]) -> Bridge:
    return make_bridge(program={"rewards": REWARDS, "referrals": {"enabled": True}})


# -- the shop's side -----------------------------------------------------------------------------------------------
def account(bridge: Bridge, customer_id: int, email: str, topic: str = "customer.created") -> None:
    """The shop tells us about an account (its own e-mail): ``customer.created`` or ``customer.updated``."""
    data = woo.payload("customer.created") | {"id": customer_id, "email": email}
    body, headers = woo.signed("customer.created", data)
    headers["X-WC-Webhook-Topic"] = topic
    bridge.send_ok(body, headers)
    bridge.drain()


def order(bridge: Bridge, order_id: int, customer_id: int, billing_email: str) -> None:
    """A completed order of 35 points, by an account (``customer_id`` > 0) or a guest (0)."""
    data = woo.payload("order.updated.completed") | {"id": order_id, "customer_id": customer_id}
    data["billing"] = data["billing"] | {"email": billing_email}
    bridge.send_ok(*woo.signed("order.updated.completed", data))
    bridge.drain()


# -- what the owner and the shopper see ----------------------------------------------------------------------------
def member_of(bridge: Bridge, customer_id: int) -> dict[str, Any] | None:
    with db.read(bridge.rt.engine) as conn:
        member_id = member_store.by_identity(conn, SHOP, str(customer_id))
    if member_id is None:
        return None
    response = bridge.admin("GET", f"/admin/v1/members/{member_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    member: dict[str, Any] = response.get_json()
    return member


def available_of(bridge: Bridge, customer_id: int) -> int:
    member = member_of(bridge, customer_id)
    return int(member["balance"]["available"]) if member else 0


def adjust(bridge: Bridge, member_id: int, points: int) -> None:
    response = bridge.admin(
        "POST",
        f"/admin/v1/members/{member_id}/adjustments",
        json={"points": points, "reason": "goodwill"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code in (200, 201), response.get_data(as_text=True)


def widget(bridge: Bridge, method: str, path: str, customer_id: int, email: str, **kw: Any) -> Any:
    """A call with the token the shop's plugin signs for this account (``email`` is the claim it carries)."""
    shop = bridge.rt.settings.shop(SHOP)
    assert shop is not None
    token = issue_token(shop, str(customer_id), email)
    headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
    return bridge.client.open(path, method=method, headers=headers, **kw)


def audit_actions(bridge: Bridge) -> list[tuple[str, str, dict[str, Any]]]:
    a = t.audit_log.c
    with db.read(bridge.rt.engine) as conn:
        rows = conn.execute(select(a.action, a.target_id, a.details).where(a.target_type == "member").order_by(a.id))
        return [(r.action, r.target_id, r.details) for r in rows if r.action.startswith("member.")]


def victim_with_300_points(bridge: Bridge) -> dict[str, Any]:
    account(bridge, 7001, VICTIM)  # 50 sign-up points
    victim = member_of(bridge, 7001)
    assert victim is not None
    adjust(bridge, victim["id"], 250)
    assert available_of(bridge, 7001) == 300
    return victim


# -- the sequence of the issue -------------------------------------------------------------------------------------
@pytest.mark.parametrize("seen_before", [False, True], ids=["first-sight-is-the-order", "account-known"])
def test_an_account_typing_another_members_email_at_checkout_gets_none_of_their_points(
    bridge: Bridge, seen_before: bool
) -> None:
    # given customer 7001 holds 300 points
    victim = victim_with_300_points(bridge)
    if seen_before:
        account(bridge, 7002, "mallory@example.test")
    # when customer 7002, logged in, places an order typing 7001's e-mail as billing e-mail
    order(bridge, 9001, 7002, " VICTIM@example.test ")

    # then the order is 7002's and 7001's member is untouched
    mallory = member_of(bridge, 7002)
    assert mallory is not None and mallory["id"] != victim["id"]
    assert mallory["identities"] == [{"shop_id": SHOP, "customer_id": "7002"}]
    assert mallory["balance"]["available"] == 35 + (50 if seen_before else 0)
    again = member_of(bridge, 7001)
    assert again is not None
    assert again["identities"] == [{"shop_id": SHOP, "customer_id": "7001"}]
    assert again["balance"] == {"available": 300, "pending": 0, "lifetime": 300}

    # and 7002's own token (even one whose e-mail claim says 7001's) shows and spends only 7002's points
    for claim in ("mallory@example.test", VICTIM):
        panel = widget(bridge, "GET", "/widget/v1/panel", 7002, claim)
        assert panel.status_code == 200
        assert panel.get_json()["member"]["available"] == mallory["balance"]["available"]
        assert panel.get_json()["rewards"]["available"] == mallory["balance"]["available"]
        rewards = widget(bridge, "GET", "/widget/v1/rewards", 7002, claim).get_json()
        assert rewards["available"] == mallory["balance"]["available"]
        redeem = widget(
            bridge,
            "POST",
            "/widget/v1/redemptions",
            7002,
            claim,
            json={"reward_id": "free-ship"},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert redeem.status_code == 409 and redeem.get_json()["error"]["code"] == "insufficient_points"
    assert available_of(bridge, 7001) == 300
    # 7001 still sees their own 300
    assert widget(bridge, "GET", "/widget/v1/panel", 7001, VICTIM).get_json()["member"]["available"] == 300


def test_a_token_whose_account_has_no_member_shows_nothing_whatever_its_email_claim(bridge: Bridge) -> None:
    victim_with_300_points(bridge)
    panel = widget(bridge, "GET", "/widget/v1/panel", 7003, VICTIM)
    assert panel.status_code == 200
    member = panel.get_json()["member"]
    assert (member["joined"], member["available"], member["pending"], member["lifetime"]) == (False, 0, 0, 0)
    assert panel.get_json()["history"] == []
    redeem = widget(
        bridge,
        "POST",
        "/widget/v1/redemptions",
        7003,
        VICTIM,
        json={"reward_id": "free-ship"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert redeem.status_code == 409 and redeem.get_json()["error"]["code"] == "insufficient_points"
    # the referral link is 7003's own: asking for it makes 7003's member, not 7001's
    victim_code = widget(bridge, "GET", "/widget/v1/referral", 7001, VICTIM).get_json()["code"]
    mine = widget(bridge, "GET", "/widget/v1/referral", 7003, VICTIM)
    assert mine.status_code == 200 and mine.get_json()["code"] != victim_code
    created = member_of(bridge, 7003)
    assert created is not None and created["balance"]["available"] == 0
    assert available_of(bridge, 7001) == 300


def test_an_account_order_without_a_billing_email_still_earns_for_the_account(bridge: Bridge) -> None:
    order(bridge, 9002, 7004, "")
    assert available_of(bridge, 7004) == 35


# -- guests --------------------------------------------------------------------------------------------------------
def test_guest_orders_collect_on_their_email_and_the_accounts_own_email_attaches_them_audited(
    bridge: Bridge,
) -> None:
    order(bridge, 9010, 0, "Dana@Example.test")
    order(bridge, 9011, 0, " dana@example.test")
    guest = bridge.member("dana@example.test")
    assert guest is not None and guest["balance"]["available"] == 70 and guest["identities"] == []

    account(bridge, 7010, "DANA@example.test")  # the account's own e-mail, from the shop's customer resource

    dana = member_of(bridge, 7010)
    assert dana is not None and dana["id"] == guest["id"]
    assert dana["balance"]["available"] == 70 + 50
    assert [(action, target) for action, target, _ in audit_actions(bridge)] == [
        ("member.guest_attached", str(guest["id"]))
    ]
    # a later guest order with that e-mail is the account's too
    order(bridge, 9012, 0, "dana@example.test")
    assert available_of(bridge, 7010) == 70 + 50 + 35


def test_an_accounts_order_never_attaches_a_guest_member_by_its_billing_email(bridge: Bridge) -> None:
    order(bridge, 9020, 0, "erin@example.test")  # a guest member of 35 points
    order(bridge, 9021, 7020, "erin@example.test")  # an account typing that e-mail: its own member
    account_member = member_of(bridge, 7020)
    assert account_member is not None and account_member["balance"]["available"] == 35
    with db.read(bridge.rt.engine) as conn:
        guest_id = member_store.by_email(conn, bridge.rt.settings.program.id, "erin@example.test")
    assert guest_id is not None and guest_id != account_member["id"]
    # the owner's search by e-mail finds both: two members show that address, one is selected by it
    found = bridge.admin("GET", "/admin/v1/members", query_string={"email": "erin@example.test"}).get_json()
    assert [(m["id"], m["balance"]["available"], m["identities"]) for m in found["members"]] == [
        (guest_id, 35, []),
        (account_member["id"], 35, [{"shop_id": SHOP, "customer_id": "7020"}]),
    ]
    assert audit_actions(bridge) == []


def test_an_account_that_already_has_a_member_is_not_merged_with_a_guest_but_the_skip_is_audited(
    bridge: Bridge,
) -> None:
    order(bridge, 9030, 0, "fay@example.test")  # guest member: 35
    order(bridge, 9031, 7030, "other@example.test")  # the account ordered before we heard of it: 35
    account(bridge, 7030, "fay@example.test")  # its own e-mail is the guest's
    account(bridge, 7030, "fay@example.test", topic="customer.updated")  # a later change of the profile

    account_member = member_of(bridge, 7030)
    assert account_member is not None
    assert account_member["email"] == "fay@example.test"  # the account's own e-mail is now the one shown
    with db.read(bridge.rt.engine) as conn:
        guest_id = member_store.by_email(conn, bridge.rt.settings.program.id, "fay@example.test")
    assert guest_id is not None and guest_id != account_member["id"]
    assert account_member["balance"]["available"] == 35 + 50  # its order and its sign-up; none of the guest's
    actions = audit_actions(bridge)
    assert [(action, target) for action, target, _ in actions] == [
        ("member.guest_attach_skipped", str(account_member["id"]))
    ]
    assert actions[0][2]["guest_member_id"] == guest_id


def test_an_email_that_selects_another_account_is_never_taken_over(bridge: Bridge) -> None:
    victim_with_300_points(bridge)
    # another account whose own e-mail (as the shop reports it) is 7001's: a member of its own
    account(bridge, 7040, VICTIM, topic="customer.updated")
    other = member_of(bridge, 7040)
    assert other is not None and other["balance"]["available"] == 0
    assert available_of(bridge, 7001) == 300
    # guest orders with that e-mail still go to the account it selected first
    order(bridge, 9040, 0, VICTIM)
    assert available_of(bridge, 7001) == 335
    assert available_of(bridge, 7040) == 0


def test_an_account_known_first_by_its_order_gets_its_own_email_from_the_customer_resource(bridge: Bridge) -> None:
    order(bridge, 9050, 7050, "typed@example.test")
    before = member_of(bridge, 7050)
    assert before is not None and before["email"] == "typed@example.test"  # shown until the shop tells us
    # a guest order with the typed e-mail is not the account's
    order(bridge, 9051, 0, "typed@example.test")
    assert available_of(bridge, 7050) == 35
    account(bridge, 7050, "gail@example.test", topic="customer.updated")
    after = member_of(bridge, 7050)
    assert after is not None and after["id"] == before["id"] and after["email"] == "gail@example.test"
    order(bridge, 9052, 0, "GAIL@example.test")  # now the account's own e-mail selects it for guest orders
    assert available_of(bridge, 7050) == 70
