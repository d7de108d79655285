"""Members' names captured from what the shop sends (issue 15), through the real webhook, inbox and worker, on
SQLite and PostgreSQL: the account's own name beats a billing name; a newer snapshot of one kind replaces an older
one, never the reverse; the name is bounded alike on both databases; an erased member gets no name back."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bridge.storage import db
from bridge.storage import tables as t
from bridge.sync.apply import apply_customers, apply_orders
from tests.integration.conftest import BOTH_BACKENDS
from tests.support import woo
from tests.support.client import SHOP, Bridge
from tests.support.woo_rest import order_payload


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _customer(bridge: Bridge, topic: str, modified: str, **changes: Any) -> None:
    """A ``customer.created``/``customer.updated`` delivery of Carol's account (customer 2), as the shop signs it."""
    data = woo.payload("customer.created") | {"date_modified_gmt": modified} | changes
    body, headers = woo.signed("customer.created", data)
    headers["X-WC-Webhook-Topic"] = topic
    headers["X-WC-Webhook-Event"] = topic.split(".")[1]
    bridge.send_ok(body, headers)


def _order(bridge: Bridge, order_id: int, customer_id: int, email: str, first: str, last: str, modified: str) -> None:
    data = order_payload(order_id, email=email, customer_id=customer_id, modified=modified, billing_name=(first, last))
    bridge.send_ok(*woo.signed("order.updated.completed", data))


def _name(bridge: Bridge, email: str) -> str | None:
    bridge.drain()
    member = bridge.member(email)
    assert member is not None
    name: str | None = member["name"]
    return name


def test_the_account_name_comes_from_the_captured_customer_created_delivery(bridge: Bridge) -> None:
    bridge.deliver_ok("customer.created")  # the real capture: Carol Poe
    assert _name(bridge, woo.CAROL) == "Carol Poe"
    with db.read(bridge.rt.engine) as conn:
        row = conn.execute(select(t.member_name)).mappings().one()
    assert row["source"] == "account" and row["source_modified"].isoformat() == "2026-11-23T22:32:53+00:00"


def test_a_newer_customer_update_renames_an_older_one_does_not(bridge: Bridge) -> None:
    bridge.deliver_ok("customer.created")
    _customer(bridge, "customer.updated", "2026-11-25T09:00:00", last_name="Poe-Smith")
    assert _name(bridge, woo.CAROL) == "Carol Poe-Smith"
    _customer(bridge, "customer.updated", "2026-11-24T09:00:00", last_name="Stale")  # arrives late: older
    assert _name(bridge, woo.CAROL) == "Carol Poe-Smith"
    _customer(bridge, "customer.updated", "2026-11-26T09:00:00", first_name="", last_name="")  # blanked
    assert _name(bridge, woo.CAROL) == "Carol Poe-Smith"


def test_an_account_order_names_the_member_until_the_account_tells_its_own_name(bridge: Bridge) -> None:
    for name in woo.ORDER_12_SEQUENCE[:4]:  # the captured orders of account 2, billed to Carol Poe
        bridge.deliver_ok(name)
    assert _name(bridge, woo.CAROL) == "Carol Poe"
    _order(bridge, 30, 2, woo.CAROL, "Carol", "Billing", "2026-11-27T10:00:00")  # a newer order: newer billing name
    assert _name(bridge, woo.CAROL) == "Carol Billing"
    _order(bridge, 31, 2, woo.CAROL, "Older", "Order", "2026-11-20T10:00:00")
    assert _name(bridge, woo.CAROL) == "Carol Billing"
    _customer(bridge, "customer.updated", "2026-11-21T08:00:00", last_name="Account")  # older, but the account's
    assert _name(bridge, woo.CAROL) == "Carol Account"
    _order(bridge, 32, 2, woo.CAROL, "Mallory", "Typed", "2026-11-30T10:00:00")  # anyone can type a billing name
    assert _name(bridge, woo.CAROL) == "Carol Account"


def test_a_guest_order_names_its_guest_member(bridge: Bridge) -> None:
    _order(bridge, 40, 0, "dana@example.test", "  Dana ", "Guest\t", "2026-11-27T10:00:00")
    assert _name(bridge, "dana@example.test") == "Dana Guest"
    _order(bridge, 41, 0, "DANA@example.test", "Dana", "Earlier", "2026-11-26T10:00:00")
    assert _name(bridge, "dana@example.test") == "Dana Guest"
    _order(bridge, 42, 0, "dana@example.test", "", "", "2026-11-28T10:00:00")  # no name on the form: kept
    assert _name(bridge, "dana@example.test") == "Dana Guest"


def test_a_name_is_bounded_and_cleaned_the_same_on_both_databases(bridge: Bridge) -> None:
    _customer(bridge, "customer.created", "2026-11-25T09:00:00", first_name="\x07Zoë\u202e", last_name="ج" * 400)
    name = _name(bridge, woo.CAROL)
    assert name == "Zoë " + "ج" * 196 and len(name) == 200


def test_an_erased_member_gets_no_name_back_from_a_late_delivery(bridge: Bridge) -> None:
    bridge.deliver_ok("customer.created")
    for name in woo.ORDER_12_SEQUENCE[:4]:
        bridge.deliver_ok(name)
    bridge.drain()
    member = bridge.member(woo.CAROL)
    assert member is not None and member["name"] == "Carol Poe"
    assert bridge.admin("POST", f"/admin/v1/members/{member['id']}/erase").status_code == 201
    # the shop sends order 12 again, unscrubbed: it still reaches the erased member (its refund must reverse there)
    bridge.deliver_ok("order.updated.partial-refund")
    bridge.drain()
    assert bridge.admin("GET", f"/admin/v1/members/{member['id']}").get_json()["name"] is None
    with db.read(bridge.rt.engine) as conn:
        for table in (t.member_name, t.member_name_word):
            count = conn.scalar(select(func.count()).select_from(table).where(table.c.member_id == member["id"]))
            assert count == 0, table.name


def test_backfill_pages_and_imported_accounts_capture_names(bridge: Bridge) -> None:
    """The REST paths (backfill, reconciliation): a page of orders applied at once, accounts imported."""
    rt = bridge.rt
    orders = [
        order_payload(50 + i, email=f"g{i}@example.test", billing_name=(f"Guest{i}", "Page")) for i in range(5)
    ] + [order_payload(60, email="acct@example.test", customer_id=7, billing_name=("Billing", "Seven"))]
    accounts = [{"id": 8, "email": "eight@example.test", "first_name": "علي", "last_name": "كريمي"}]
    with db.write(rt.engine) as conn:
        ctx = rt.shop_context(SHOP)
        assert sum(apply_orders(conn, ctx, orders, source="backfill").values()) == 6
        apply_customers(conn, ctx, accounts, award_signup=False)
        apply_customers(
            conn,
            ctx,
            [{"id": 7, "email": "acct@example.test", "first_name": "Own", "last_name": "Name"}],
            award_signup=False,
        )
    assert [_name(bridge, f"g{i}@example.test") for i in range(5)] == [f"Guest{i} Page" for i in range(5)]
    assert _name(bridge, "eight@example.test") == "علي كريمي"  # shown as the shop spelled it
    assert _name(bridge, "acct@example.test") == "Own Name"
    with db.read(rt.engine) as conn:
        words = conn.scalars(select(t.member_name_word.c.word).order_by(t.member_name_word.c.word)).all()
    assert {"علی", "کریمی"} <= set(words)  # searched in one folded form
