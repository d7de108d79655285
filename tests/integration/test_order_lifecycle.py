"""The real order lifecycle, delivery by delivery, gives the exact balance after each step."""

from __future__ import annotations

import pytest

from tests.integration.conftest import BOTH_BACKENDS
from tests.support import woo
from tests.support.client import Bridge


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_order_lifecycle_pending_to_paid_to_refunded(bridge: Bridge) -> None:
    # given Carol signs up (50 points)
    bridge.deliver_ok("customer.created")
    bridge.drain()
    assert bridge.balance() == {"available": 50, "pending": 0, "lifetime": 50}

    # pending and its second save: not paid, nothing earned
    for name in ("order.created.pending", "order.updated.after-create"):
        bridge.deliver_ok(name)
        bridge.drain()
        assert bridge.available() == 50

    # paid (processing): 35.00 of line items after the 5.00 coupon -> 35 points (no tax, no shipping)
    bridge.deliver_ok("order.updated.processing-paid")
    bridge.drain()
    assert bridge.available() == 85

    # completed: nothing new
    bridge.deliver_ok("order.updated.completed")
    bridge.drain()
    assert bridge.available() == 85

    # 10.00 of 42.90 refunded: floor(35 * 10 / 42.90) = 8 points back
    bridge.deliver_ok("order.updated.partial-refund")
    bridge.drain()
    assert bridge.available() == 77

    # refunded in full: the other 27
    bridge.deliver_ok("order.updated.fully-refunded")
    bridge.drain()
    assert bridge.balance() == {"available": 50, "pending": 0, "lifetime": 50}


def test_each_reversal_points_at_the_entry_it_reverses(bridge: Bridge) -> None:
    for name in woo.ORDER_12_SEQUENCE:
        bridge.deliver_ok(name)
    bridge.drain()
    member = bridge.member(woo.CAROL)
    assert member is not None
    entries = bridge.ledger(member["id"])
    earn = next(e for e in entries if e["kind"] == "earn")
    reversals = [e for e in entries if e["kind"] == "reverse"]
    assert earn["points"] == 35 and earn["cause"] == {"type": "order", "id": "12", "rule": "per_amount", "refund": ""}
    assert sorted((e["cause"]["refund"], e["points"]) for e in reversals) == [("13", -8), ("14", -27)]
    assert all(e["reverses_entry_id"] == earn["id"] for e in reversals)


def test_an_order_put_on_hold_and_cancelled_never_earns(bridge: Bridge) -> None:
    bridge.deliver_ok("order.created.on-hold")
    bridge.drain()
    assert bridge.available() == 0
    bridge.deliver_ok("order.updated.cancelled")
    bridge.drain()
    member = bridge.member(woo.CAROL)
    assert member is not None
    assert bridge.ledger(member["id"]) == []


def test_a_paid_order_that_is_cancelled_gives_back_what_it_earned(bridge: Bridge) -> None:
    body, headers = woo.with_order_id("order.updated.processing-paid", 501)
    bridge.send_ok(body, headers)
    bridge.drain()
    assert bridge.available() == 35
    body, headers = woo.with_order_id(
        "order.updated.processing-paid", 501, status="cancelled", date_modified_gmt="2026-11-23T23:00:00"
    )
    bridge.send_ok(body, headers)
    bridge.drain()
    assert bridge.balance() == {"available": 0, "pending": 0, "lifetime": 0}


def test_a_deleted_order_gives_back_its_points_and_a_restored_one_earns_again(bridge: Bridge) -> None:
    body, headers = woo.with_order_id("order.updated.completed", 502)
    bridge.send_ok(body, headers)
    deleted, deleted_headers = woo.signed("order.updated.completed", {"id": 502})
    deleted_headers["X-WC-Webhook-Topic"] = "order.deleted"
    bridge.send_ok(deleted, deleted_headers)
    bridge.drain()
    assert bridge.available() == 0

    restored, restored_headers = woo.with_order_id(
        "order.updated.completed", 502, date_modified_gmt="2026-11-24T08:00:00"
    )
    restored_headers["X-WC-Webhook-Topic"] = "order.restored"
    bridge.send_ok(restored, restored_headers)
    bridge.drain()
    assert bridge.available() == 35


def test_a_guest_order_and_a_later_account_with_that_email_are_one_member(bridge: Bridge) -> None:
    # given a guest order (customer_id 0) with Carol's email in another case and with spaces
    data = woo.payload("order.updated.completed") | {"id": 600, "customer_id": 0}
    data["billing"] = data["billing"] | {"email": "  " + woo.CAROL.upper() + " "}
    bridge.send_ok(*woo.signed("order.updated.completed", data))
    # when she later creates an account
    bridge.deliver_ok("customer.created")
    bridge.drain()
    # then both land on one member, linked to her shop customer id
    member = bridge.member(woo.CAROL)
    assert member is not None
    assert member["balance"]["available"] == 35 + 50
    assert member["identities"] == [{"shop_id": "shop1", "customer_id": "2"}]


def test_a_guest_order_without_an_email_is_applied_without_points(bridge: Bridge) -> None:
    data = woo.payload("order.updated.completed") | {"id": 601, "customer_id": 0}
    data["billing"] = data["billing"] | {"email": ""}
    bridge.send_ok(*woo.signed("order.updated.completed", data))
    bridge.drain()
    assert bridge.inbox_count("done") == 1
    assert bridge.member(woo.CAROL) is None


def test_statuses_the_program_does_not_pay_on_are_ignored_cleanly(bridge: Bridge) -> None:
    for index, status in enumerate(("checkout-draft", "pending", "on-hold", "failed")):
        body, headers = woo.with_order_id("order.created.pending", 700 + index, status=status)
        bridge.send_ok(body, headers)
    bridge.drain()
    assert bridge.inbox_count("done") == 4
    assert bridge.available() == 0


def test_the_program_can_pay_on_completed_only(make_bridge) -> None:  # type: ignore[no-untyped-def]
    bridge = make_bridge(program={"earn": {"paid_statuses": ["completed"]}})
    bridge.deliver_ok("order.updated.processing-paid")
    bridge.drain()
    assert bridge.available() == 0
    bridge.deliver_ok("order.updated.completed")
    bridge.drain()
    assert bridge.available() == 35


def test_a_resent_partial_refund_changes_nothing_and_warns_of_nothing(
    bridge: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    """The shop re-sends a snapshot with a refund we already reversed (a retry, a reconcile pass): the ledger keeps
    its figures and no "replayed with different figures" warning cries wolf (it is meant for real conflicts).
    30.00 of 42.90 back: floor(35 * 30 / 42.90) = 24 points; a replay must not propose the 11 left instead."""
    data = woo.payload("order.updated.partial-refund")
    data["refunds"] = [{"id": 13, "reason": "most of it returned", "total": "-30.00", "total_tax": "0.00"}]
    body, headers = woo.signed("order.updated.partial-refund", data)
    bridge.deliver_ok("order.updated.processing-paid")
    bridge.send_ok(body, headers)
    bridge.drain()
    assert bridge.available() == 35 - 24

    headers["X-WC-Webhook-Delivery-ID"] = "resent-" + headers["X-WC-Webhook-Delivery-ID"]
    with caplog.at_level("WARNING"):
        bridge.send_ok(body, headers)
        bridge.drain()

    assert bridge.available() == 11
    member = bridge.member(woo.CAROL)
    assert member is not None
    assert sorted(e["points"] for e in bridge.ledger(member["id"])) == [-24, 35]
    assert not [r for r in caplog.records if "replayed with different figures" in r.getMessage()]
