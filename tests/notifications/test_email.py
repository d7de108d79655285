"""E-mail through a real SMTP server: subject, parts, locale, unsubscribe header and link, ADR 0007's address rule."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.notifications import unsubscribe
from tests.notifications.conftest import CAROL, deliveries, dispatch, notifications, paid_order
from tests.support.client import Bridge
from tests.support.mailbox import Mailbox
from tests.support.receiver import Receiver
from tests.support.tls import self_signed


def test_a_paid_order_sends_a_thank_you_and_points_earned_email(
    notifying: Callable[..., Bridge], mailbox: Mailbox, receiver: Receiver
) -> None:
    bridge = notifying()
    paid_order(bridge)

    outcome = dispatch(bridge)

    assert outcome["sent"] == 4  # two e-mails, two webhooks
    subjects = sorted(str(m["Subject"]) for m in mailbox.messages)
    assert subjects == ["Thank you for your order #12", "You earned 35 points"]
    assert all(rcpt == [CAROL] for rcpt in mailbox.recipients)
    message = next(m for m in mailbox.messages if "earned" in str(m["Subject"]))
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "35 points are on their way to your Test Club balance" in text.get_content()
    assert "Unsubscribe" in html.get_content()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = str(message["List-Unsubscribe"]).strip().strip("<>")
    assert link.startswith("https://loyalty.example/u/")
    assert link in html.get_content()
    assert message["Content-Language"] == "en"


def test_persian_members_get_persian_digits(
    notifying: Callable[..., Bridge], mailbox: Mailbox, receiver: Receiver
) -> None:
    bridge = notifying(locale="fa")
    paid_order(bridge)
    dispatch(bridge)

    subjects = sorted(str(m["Subject"]) for m in mailbox.messages)
    assert "۳۵ امتیاز گرفتید" in subjects
    assert all(m["Content-Language"] == "fa" for m in mailbox.messages)
    html = mailbox.messages[0].get_body(("html",))
    assert html is not None and 'dir="rtl"' in html.get_content()


def test_the_unsubscribe_link_stops_the_next_message(
    notifying: Callable[..., Bridge], mailbox: Mailbox, receiver: Receiver
) -> None:
    bridge = notifying()
    bridge.deliver_ok("customer.created")
    bridge.drain()
    member = bridge.member(CAROL)
    assert member is not None
    path = unsubscribe.url(bridge.rt.settings, member["id"], "email").removeprefix("https://loyalty.example")

    page = bridge.client.get(path)  # a link checker's GET changes nothing: it shows a button
    assert page.status_code == 200 and "<form" in page.get_data(as_text=True)
    assert bridge.client.post(path.replace(".email.", ".email.x")).status_code == 404  # forged
    assert bridge.client.post(path).status_code == 200  # RFC 8058 one-click POST

    bridge.deliver_ok("order.updated.processing-paid")
    bridge.drain()
    dispatch(bridge)

    assert mailbox.messages == []
    emails = [d for d in deliveries(bridge) if d["channel"] == "email"]
    assert {(d["state"], d["last_error"]) for d in emails} == {("skipped", "unsubscribed")}
    assert len(receiver.received) == 2  # the owner's systems still hear of the order


def test_no_email_to_an_address_the_shop_did_not_vouch_for(
    notifying: Callable[..., Bridge], mailbox: Mailbox, receiver: Receiver
) -> None:
    """ADR 0007: an account seen only through an order shows its billing e-mail, which anyone could type."""
    bridge = notifying()
    bridge.deliver_ok("order.updated.processing-paid")  # customer 2's order, no customer resource yet
    bridge.drain()
    dispatch(bridge)

    assert mailbox.messages == []
    emails = [d for d in deliveries(bridge) if d["channel"] == "email"]
    assert emails and all(d["state"] == "skipped" for d in emails)
    assert emails[0]["last_error"] == "no e-mail the shop vouches for"


def test_starttls_and_login(
    make_bridge: Callable[..., Bridge], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that requires STARTTLS before AUTH and AUTH before mail: the bridge upgrades, logs in, sends."""
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the bridge trusts the system's CAs; this test's CA is one
    box = Mailbox(starttls=server_tls, login=("club", "s3cret-password")).start()
    try:
        config = notifications(box, events={"points_earned": {"channels": ["email"]}})
        config["email"].update(security="starttls", username="club", password="s3cret-password")
        bridge = make_bridge(public_url="https://loyalty.example", notifications=config)
        paid_order(bridge)
        outcome = dispatch(bridge)
    finally:
        box.stop()
    assert outcome["sent"] == 1
    assert box.login is not None and box.login.logins == ["PLAIN"]
    assert [str(m["Subject"]) for m in box.messages] == ["You earned 35 points"]
