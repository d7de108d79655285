"""Member preferences through the admin API, and the rule that no message leaves inside a write transaction."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from sqlalchemy import select

from bridge.notifications.channels import email as email_channel
from bridge.notifications.channels import webhooks as webhook_channel
from bridge.notifications.settings import WebhookEndpoint
from bridge.storage import db
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from bridge.write_guard import NetworkInWriteTransaction
from tests.notifications.conftest import CAROL, deliveries, dispatch, notifications, paid_order
from tests.support.client import Bridge
from tests.support.mailbox import Mailbox
from tests.support.receiver import SECRET, Receiver


def test_the_owner_sets_phone_language_and_opt_outs_audited(
    make_bridge: Callable[..., Bridge], mailbox: Mailbox
) -> None:
    bridge = make_bridge(notifications=notifications(mailbox, events={"thank_you": {"channels": ["email"]}}))
    bridge.deliver_ok("customer.created")
    bridge.drain()
    member = bridge.member(CAROL)
    assert member is not None
    path = f"/admin/v1/members/{member['id']}/notifications"

    put = bridge.admin("PUT", path, json={"phone": "+989120000000", "locale": "fa", "opt_out": {"email": True}})
    assert put.status_code == 200
    assert put.get_json() == {
        "member_id": member["id"],
        "email": CAROL,
        "phone": "+989120000000",
        "locale": "fa",
        "opted_out": ["email"],
    }
    for bad in ({"phone": "call me"}, {"locale": "de"}, {"opt_out": {"fax": True}}, {"colour": "red"}):
        refused = bridge.admin("PUT", path, json=bad)
        assert refused.status_code == 422, bad
        assert refused.get_json()["error"]["code"] == "validation_failed"
    assert bridge.admin("PUT", "/admin/v1/members/999/notifications", json={"locale": "en"}).status_code == 404

    bridge.deliver_ok("order.updated.processing-paid")
    bridge.drain()
    dispatch(bridge)
    assert mailbox.messages == [] and deliveries(bridge)[0]["last_error"] == "unsubscribed"

    back = bridge.admin("PUT", path, json={"opt_out": {"email": False}})
    assert back.get_json()["opted_out"] == []
    with db.read(bridge.rt.engine) as conn:
        audited = conn.execute(select(t.audit_log.c.action, t.audit_log.c.details).order_by(t.audit_log.c.id)).all()
    changes = [details for action, details in audited if action == "notification.preferences"]
    assert changes == [
        {"fields": ["locale", "phone"], "opt_out": {"email": True}},
        {"fields": [], "opt_out": {"email": False}},
    ]


def test_no_message_leaves_inside_a_write_transaction(
    make_bridge: Callable[..., Bridge], mailbox: Mailbox, receiver: Receiver
) -> None:
    """ADR 0009: every sender asks the write guard first (the test suite makes a violation raise)."""
    bridge = make_bridge(notifications=notifications(mailbox))
    endpoint = WebhookEndpoint("crm", receiver.url, SECRET)
    with pytest.raises(NetworkInWriteTransaction), db.write(bridge.rt.engine):
        webhook_channel.send(requests.Session(), endpoint, "msg_1", utcnow(), "{}")
    mail = email_channel.Mail(CAROL, "s", "t", "<p>t</p>", "<m@x>")
    with pytest.raises(NetworkInWriteTransaction), db.write(bridge.rt.engine):
        email_channel.SmtpSender(bridge.rt.settings.notifications.email).send(mail)
    assert receiver.received == [] and mailbox.messages == []


def test_a_paid_order_dispatched_by_the_worker_path_sends_nothing_twice(
    make_bridge: Callable[..., Bridge], mailbox: Mailbox, receiver: Receiver
) -> None:
    bridge = make_bridge(notifications=notifications(mailbox, receiver))
    paid_order(bridge)
    first, second = dispatch(bridge), dispatch(bridge)
    assert first["sent"] == 4 and second == {}
    assert len(mailbox.messages) == 2 and len(receiver.received) == 2


def test_bad_input_is_a_clear_json_error_never_a_500(make_bridge: Callable[..., Bridge], mailbox: Mailbox) -> None:
    bridge = make_bridge(notifications=notifications(mailbox))
    cases = [
        ("GET", "/admin/v1/notifications/deliveries?limit=0", 422),
        ("GET", "/admin/v1/notifications/deliveries?limit=abc", 422),
        ("GET", "/admin/v1/notifications/deliveries?state=lost", 422),
        ("GET", "/admin/v1/notifications/deliveries?before=-1", 422),
        ("GET", "/admin/v1/notifications/deliveries?colour=red", 422),
        ("POST", f"/admin/v1/notifications/deliveries/{2**64}/replay", 404),
        ("GET", "/admin/v1/notifications/preview?event=Bad-Name&member=1", 422),
        ("GET", "/admin/v1/notifications/preview?member=1", 422),
        ("PUT", "/admin/v1/members/1/notifications", 400),  # no JSON body
    ]
    for method, path, status in cases:
        response = bridge.admin(method, path)
        assert response.status_code == status, (path, response.get_data(as_text=True))
        assert response.get_json()["error"]["code"], path
    for token in ("x" * 5000, "1.email.", "1.fax.abc", f"{2**70}.email.abc"):
        response = bridge.client.post(f"/u/{token}")
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "unsubscribe_link_invalid"
    listed = bridge.admin("GET", "/admin/v1/notifications/deliveries").get_json()
    assert listed == {"deliveries": [], "next_before": None}
